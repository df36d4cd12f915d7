#!/usr/bin/env bash
# The converged Fashion-MNIST zoo (docs/pretrained.md): for each scheme, a learning-rate search on a
# validation split held out of the training set (never the test set), then the full training at the
# learning rate that search found best. Every command resumes where it stopped when run again.
#
#   bash configs/zoo/fashion_mnist.sh [scheme ...]      # default: bn zeroinit fixup skipinit gbn
#   BATCH=64 bash configs/zoo/fashion_mnist.sh bn zeroinit   # the paper's WRN batch size (its Table 2)
#
# Runs go to runs/zoo/search/<run> and runs/zoo/<run>, where <run> is the scheme, or <scheme>-b<BATCH> at a batch size
# other than 128; a run whose training has begun resumes from its runs/zoo/<run>/flagfile.txt without searching again. The pretrained archives are packed from
# runs/zoo/<scheme>/model.keras with `python -m export.archive` afterwards (docs/pretrained.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
# auto: bf16 on a CPU that computes in it (the zoo's models so far: AVX512-BF16/AMX), else fp32; a training resumed on
# another CPU goes on in the precision it started in (docs/training.md)
PRECISION=${PRECISION:-auto}
EPOCHS=${EPOCHS:-60}  # 30 left the schemes without normalization short of converging (docs/results/fashion_mnist.md)
BATCH=${BATCH:-128}   # the zoo's batch size; batch norm normalizes over the whole batch, ghost batch norm over 64
if ! [[ "$BATCH" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: BATCH=$BATCH is not a batch size; accepted: a positive integer (default 128)" >&2; exit 2
fi
if ! [[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: EPOCHS=$EPOCHS is not a number of epochs; accepted: a positive integer (default 60)" >&2; exit 2
fi
COMMON=(--dataset=fashion_mnist --model=wrn-16-2 --precision="$PRECISION" --seed=0)

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

for scheme in "${@:-bn zeroinit fixup skipinit gbn}"; do
  for s in $scheme; do
    flags=$(scheme_flags "$s")
    search=$s
    if (( BATCH != 128 )); then search="$s-b$BATCH"; fi
    run=$search
    if (( EPOCHS != 60 )); then run="$search-e$EPOCHS"; fi
    if [[ -f "runs/zoo/$run/flagfile.txt" ]]; then  # a training under way (or carried, carry/README.md): resume it as
      echo "zoo: $run resumes runs/zoo/$run with its own flags"  # it began, with no new search
      python -m recipes.cifar_wrn --flagfile="runs/zoo/$run/flagfile.txt"
      continue
    fi
    if [[ -f "runs/zoo/search/$search/summary.json" ]]; then  # searched already, for this or another budget
      echo "zoo: $run takes the search of runs/zoo/search/$search"
    else
      # shellcheck disable=SC2086
      python -m recipes.lr_search "${COMMON[@]}" $flags --batch_sizes="$BATCH" --lr_exponents="$(lr_grid "$s")" \
        --runs=1 --best=1 --epochs=3 --max_train_examples=15000 --validation_examples=10000 \
        --output_dir="runs/zoo/search/$search"
    fi
    lr=$(best_lr "runs/zoo/search/$search/summary.json")
    echo "zoo: $run trains at lr=$lr (best validation accuracy of runs/zoo/search/$search)"
    depth_width=(--depth=16 --width=2)
    # shellcheck disable=SC2086
    python -m recipes.cifar_wrn "${depth_width[@]}" --dataset=fashion_mnist --batch_size="$BATCH" \
      --precision="$PRECISION" --seed=0 $flags --lr="$lr" --epochs="$EPOCHS" --output_dir="runs/zoo/$run"
  done
done
