# The zoo's driver, shared by configs/zoo/<dataset>.sh (sourced, not run): for each scheme, a learning-rate search on a
# validation split held out of the training set (never the test set), then the full training at the learning rate
# that search found best. Every command resumes where it stopped when run again.
#
# The sourcing script sets, before calling zoo_main "$@":
#   ZOO_ROOT        where runs go: $ZOO_ROOT/search/<run> and $ZOO_ROOT/<run>
#   ZOO_DATA        the data flags of search and training (an array)
#   ZOO_MODEL       the registered model (wrn-16-2, wrn-16-4)
#   ZOO_SEARCH      the search's own budget flags (an array: epochs, examples, validation split)
#   ZOO_EPOCHS_DEFAULT  the training budget unless EPOCHS= is given
# SEARCH_ONLY=1 runs the searches and no training.
# <run> is the scheme, <scheme>-b<BATCH> at a batch size other than 128, and -e<EPOCHS> appended at a budget other
# than the default; a run whose training has begun resumes from its flagfile.txt without searching again.

# auto: bf16 on a CPU that computes in it (AVX512-BF16/AMX), else fp32; a training resumed on another CPU goes on in
# the precision it started in (docs/training.md)
PRECISION=${PRECISION:-auto}
BATCH=${BATCH:-128}   # the zoo's batch size; batch norm normalizes over the whole batch, ghost batch norm over 64

zoo_check_budget() {
  EPOCHS=${EPOCHS:-$ZOO_EPOCHS_DEFAULT}
  if ! [[ "$BATCH" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: BATCH=$BATCH is not a batch size; accepted: a positive integer (default 128)" >&2; exit 2
  fi
  if ! [[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: EPOCHS=$EPOCHS is not a number of epochs; accepted: a positive integer (default $ZOO_EPOCHS_DEFAULT)" >&2
    exit 2
  fi
}

scheme_flags() {
  case "$1" in
    bn)       echo "--normalization=batch_norm --init=standard --ghost_batch_size=$BATCH" ;;
    gbn)      if (( BATCH <= 64 )); then  # ghost batches of 64 in a batch of 64 or fewer are plain batch norm
                echo "error: gbn needs BATCH above its ghost batch size 64, got BATCH=$BATCH; accepted: bn at this batch size" >&2
                exit 2
              fi
              # one step of the whole batch, the ghost BN layers splitting it: the same statistics and
              # gradient as accumulating the ghost batches, faster (docs/training.md)
              echo "--normalization=ghost_batch_norm --init=standard --ghost_batch_size=64 --noaccumulate_ghost_batches" ;;
    zeroinit) echo "--normalization=none --init=zeroinit --ghost_batch_size=$BATCH" ;;
    fixup)    echo "--normalization=none --init=fixup --ghost_batch_size=$BATCH" ;;
    skipinit) echo "--normalization=none --init=skipinit --ghost_batch_size=$BATCH" ;;
    *) echo "error: unknown scheme $1; accepted: bn gbn zeroinit fixup skipinit" >&2; exit 2 ;;
  esac
}

lr_grid() {  # batch norm's search brackets its optimum in 2^-4..2^0; without normalization 2^-2 and above
  case "$1" in  # diverge (ZeroInit's first search), so those schemes search two octaves lower; Fixup one
    bn|gbn) echo "-4:0" ;;  # octave lower (the Fixup paper trains its CIFAR-10 ResNets at 0.1 with batch 128, near 2^-3)
    fixup)  echo "-5:-1" ;;
    *)      echo "-6:-2" ;;
  esac
}

best_lr() {  # the learning rate of the best validation accuracy in a search's summary.json
  python -c "import json,sys; s=json.load(open(sys.argv[1])); print(next(iter(s.values()))['test_accuracy']['lr'])" "$1"
}

zoo_main() {
  zoo_check_budget
  local scheme s flags search run lr
  # every scheme is checked before the first command runs, so a typo costs no search
  for scheme in "${@:-bn zeroinit fixup skipinit gbn}"; do for s in $scheme; do scheme_flags "$s" >/dev/null; done; done
  for scheme in "${@:-bn zeroinit fixup skipinit gbn}"; do
    for s in $scheme; do
      flags=$(scheme_flags "$s")
      search=$s
      if (( BATCH != 128 )); then search="$s-b$BATCH"; fi
      run=$search
      if (( EPOCHS != ZOO_EPOCHS_DEFAULT )); then run="$search-e$EPOCHS"; fi
      if [[ -f "$ZOO_ROOT/$run/flagfile.txt" ]]; then  # a training under way (or carried, carry/README.md): resume it
        echo "zoo: $run resumes $ZOO_ROOT/$run with its own flags"  # as it began, with no new search
        python -m recipes.cifar_wrn --flagfile="$ZOO_ROOT/$run/flagfile.txt"
        continue
      fi
      if [[ -f "$ZOO_ROOT/search/$search/summary.json" ]]; then  # searched already, for this or another budget
        echo "zoo: $run takes the search of $ZOO_ROOT/search/$search"
      else
        # shellcheck disable=SC2086
        python -m recipes.lr_search "${ZOO_DATA[@]}" --model="$ZOO_MODEL" --precision="$PRECISION" --seed=0 $flags \
          --batch_sizes="$BATCH" --lr_exponents="$(lr_grid "$s")" --runs=1 --best=1 "${ZOO_SEARCH[@]}" \
          --output_dir="$ZOO_ROOT/search/$search"
      fi
      if [[ "${SEARCH_ONLY:-0}" == 1 ]]; then continue; fi  # SEARCH_ONLY=1: every search first, trainings later
      lr=$(best_lr "$ZOO_ROOT/search/$search/summary.json")
      echo "zoo: $run trains at lr=$lr (best validation accuracy of $ZOO_ROOT/search/$search)"
      local depth=${ZOO_MODEL#wrn-}
      # shellcheck disable=SC2086
      python -m recipes.cifar_wrn --depth="${depth%-*}" --width="${depth#*-}" "${ZOO_DATA[@]}" --batch_size="$BATCH" \
        --precision="$PRECISION" --seed=0 $flags --lr="$lr" --epochs="$EPOCHS" --output_dir="$ZOO_ROOT/$run"
    done
  done
}
