# One-command set-up on a fresh machine: `make demo` (install + a real short training run, exported as a SavedModel),
# `make test` (install + the whole test suite, then the backend-agnostic tests under JAX).
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
# pytest-xdist workers; each file's tests stay in one worker (--dist loadfile), so a file's shared fixtures run once,
# and files go out slowest first (tests/conftest.py: SLOWEST_FILES; not xdist's reordering by test count).
WORKERS ?= 2
# The bench extra's PyTorch: the CPU wheel, which lies on this machine's disk (what docs/performance.md used).
# Unpinned, pip took a CUDA build here (torch 2.14.1 with 15 nvidia-* wheels). `make install TORCH=` lifts the pin.
TORCH ?= torch==2.13.0
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider -n $(WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: install demo test gpu-wheels

install:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; fi
	$(PIP) install -q -e ".[test,jax,bench,export]" $(TORCH)

demo: install
	rm -rf runs/demo
	$(PYTHON) -m recipes.cifar_wrn --dataset=fashion_mnist --depth=10 --width=2 --normalization=none \
		--init=zeroinit --batch_size=64 --lr=0.05 --epochs=2 --max_train_examples=12800 \
		--schedule=paper --output_dir=runs/demo --export=runs/demo/saved_model

test: install
	$(PYTEST)
	KERAS_BACKEND=jax $(PYTEST) tests/layers tests/models -m "not large"

# Wheels for bench/gpu_figures.py's GPU machine (tools/gpu_wheels.sh says which and why).
gpu-wheels:
	PYTHON=$(PYTHON) bash tools/gpu_wheels.sh
