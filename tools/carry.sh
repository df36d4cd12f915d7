#!/usr/bin/env bash
# Carries an unfinished zoo training to the next working session (carry/README.md): copies what a resume reads,
# config.json, flagfile.txt and the newest checkpoints/epoch_NNNN.keras with its .json, from runs/zoo/RUN into
# carry/zoo/RUN, replacing an older carry of that run, and stages it for a commit.
#
#   bash tools/carry.sh zeroinit-e120       # then: git commit -m "carry/zoo/zeroinit-e120: ..."
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ne 1 ]]; then
  echo "error: give one run name (a folder under runs/zoo), got $# arguments; e.g. bash tools/carry.sh zeroinit-e120" >&2
  exit 2
fi
run=$1
src="runs/zoo/$run"
for f in config.json flagfile.txt; do
  if [[ ! -f "$src/$f" ]]; then
    echo "error: $src/$f does not exist; accepted: a run folder under runs/zoo that a training has begun" >&2; exit 2
  fi
done
newest=$(find "$src/checkpoints" -maxdepth 1 -name 'epoch_*.keras' 2>/dev/null | sort | tail -n 1)
if [[ -z "$newest" || ! -f "${newest%.keras}.json" ]]; then
  echo "error: $src/checkpoints holds no complete checkpoint (epoch_NNNN.keras with its .json); nothing to carry" >&2
  exit 2
fi
if [[ -f "$src/results.json" ]]; then
  echo "error: $src has finished (results.json); publish it (docs/pretrained.md) instead of carrying it" >&2; exit 2
fi
# Staged in a temporary folder beside the target and moved into place: an interrupted copy leaves the old carry whole.
parent=$(dirname "carry/zoo/$run")  # a run of a data set's zoo, cifar10/zeroinit, lies one folder deeper
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.$(basename "$run").XXXXXX")
chmod 755 "$tmp"  # mktemp makes it private; the carry is an ordinary folder
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/checkpoints"
cp "$src/config.json" "$src/flagfile.txt" "$tmp/"
cp "$newest" "${newest%.keras}.json" "$tmp/checkpoints/"
rm -rf "carry/zoo/$run"
mv "$tmp" "carry/zoo/$run"
trap - EXIT
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then git add -A "carry/zoo/$run"; fi
echo "carried $src at $(basename "$newest" .keras) to carry/zoo/$run (staged; commit it)"
