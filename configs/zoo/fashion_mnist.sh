#!/usr/bin/env bash
# The converged Fashion-MNIST zoo (docs/pretrained.md, docs/results/fashion_mnist.md): WRN-16-2 per scheme, searched on
# 3 epochs of 15,000 training images against 10,000 others held out, trained 60 epochs (configs/zoo/zoo_lib.sh).
#
#   bash configs/zoo/fashion_mnist.sh [scheme ...]      # default: bn zeroinit fixup skipinit gbn
#   BATCH=64 bash configs/zoo/fashion_mnist.sh bn zeroinit   # the paper's WRN batch size (its Table 2)
#
# Runs go to runs/zoo/search/<run> and runs/zoo/<run>. The pretrained presets are packed from runs/zoo/<scheme>
# afterwards (docs/pretrained.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
source configs/zoo/zoo_lib.sh
ZOO_ROOT=runs/zoo
ZOO_DATA=(--dataset=fashion_mnist)
ZOO_MODEL=wrn-16-2
ZOO_SEARCH=(--epochs=3 --max_train_examples=15000 --validation_examples=10000)
ZOO_EPOCHS_DEFAULT=60  # 30 left the schemes without normalization short of converging (docs/results/fashion_mnist.md)
zoo_main "$@"
