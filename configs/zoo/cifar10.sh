#!/usr/bin/env bash
# The CIFAR-10 zoo (docs/results/cifar10.md): WRN-16-4 per scheme on the complete CIFAR-10 as re-encoded in JPEG, an
# image folder DIR/train/<class>/, DIR/test/<class>/ (configs/zoo/zoo_lib.sh). The search trains 3 epochs on 15,000
# training images and measures on 5,000 others held out of train/ (never test/).
#
#   CIFAR10_DIR=/data/cifar10-jpeg bash configs/zoo/cifar10.sh [scheme ...]   # default: bn zeroinit fixup skipinit gbn
#
# Runs go to runs/zoo/cifar10/search/<run> and runs/zoo/cifar10/<run>.
set -euo pipefail
cd "$(dirname "$0")/../.."
source configs/zoo/zoo_lib.sh
if [[ -z "${CIFAR10_DIR:-}" || ! -d "${CIFAR10_DIR:-}/train" ]]; then
  echo "error: CIFAR10_DIR=${CIFAR10_DIR:-} is not a CIFAR-10 image folder; accepted: a folder holding train/<class>/" \
       "and test/<class>/ (unzip cifar10-jpeg.zip, docs/results/cifar10.md)" >&2
  exit 2
fi
ZOO_ROOT=runs/zoo/cifar10
ZOO_DATA=(--dataset=folder --data_dir="$CIFAR10_DIR")
ZOO_MODEL=wrn-16-4
ZOO_SEARCH=(--epochs=3 --max_train_examples=15000 --validation_examples=5000)
ZOO_EPOCHS_DEFAULT=40
zoo_main "$@"
