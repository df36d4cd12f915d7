"""Runnable experiments: thin absl-flag CLIs over the tfzoo library.

Every program here, started with ``python -m recipes.…``, runs TensorFlow with oneDNN's CPU
kernels (``TF_ENABLE_ONEDNN_OPTS=1``) unless the variable is already set: the first lines of
each set it, before its imports start TensorFlow (importing a module or this package changes
no environment). TensorFlow turns them on by itself only on CPUs with AVX512-VNNI, AMX and the
like; on an AVX2 CPU they train the WRNs faster (``docs/performance.md``) and stay
bit-reproducible, with other numbers than TensorFlow's default kernels
(``TF_ENABLE_ONEDNN_OPTS=0`` gives those back; the commands of results made with them say
so). ``results.json`` records which ran (``machine.onednn``).
"""
