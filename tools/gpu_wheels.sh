#!/usr/bin/env bash
# Wheels for bench/gpu_figures.py's GPU machine (Python 3.12 with JAX; no TensorFlow, no Keras, no package
# registry): the versions installed here of Keras and of the two packages it needs that that machine lacks,
# downloaded into .whl/ (carried to the machine; docs/performance.md, "GPU").
#
#   bash tools/gpu_wheels.sh        # or: make gpu-wheels
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
WHEELS=(keras namex optree)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64)

pins=()
for p in "${WHEELS[@]}"; do
  pins+=("$p==$("$PYTHON" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$p")")
done
platform_flags=()
for p in "${PLATFORMS[@]}"; do platform_flags+=(--platform "$p"); done
rm -rf .whl .whl.tmp
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platform_flags[@]}" -d .whl.tmp "${pins[@]}"
mv .whl.tmp .whl
ls .whl
