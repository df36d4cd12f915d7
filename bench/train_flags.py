"""The flags of ``bench.train_throughput``: which WRN step to time, how, and against what; checked
as a whole (one ``error:`` line and exit 2 for a bad combination). ``tools.kernel_time`` takes
the model flags too and has the rest checked here."""

from bench.cli import FlagParser
from bench.train_plan import TF_KERNELS, TORCH_PRECISIONS
from tfzoo.models.schemes import INIT_SCHEMES, NORMALIZATIONS


def add_model_flags(add):
    """The flags that say which WRN step to time (``add``: a parser's ``add_argument``); ``tools.kernel_time``
    takes them too."""
    add("--model", default="wrn-16-4", help="a WRN name, wrn-{6n+4}-{k}, or a ResNet (its PyTorch twin: V1 only)")
    add("--normalization", default="batch_norm", choices=tuple(NORMALIZATIONS))
    add("--init", default="standard", choices=tuple(INIT_SCHEMES))
    add("--batch_size", type=int, default=64)
    add("--ghost_batch_size", type=int, default=64, help="as the recipe: accumulate B/G micro-batches below B")
    add("--accumulate_ghost_batches", default=True, boolean=True,
        help="as the recipe: false times one step of B, the ghost BN layers splitting it")


def parse_args(argv=None):
    parser = FlagParser("python -m bench.train_throughput",
                        "Training throughput of the recipes' compiled Keras train step, side by side with PyTorch eager.")
    add = parser.add_argument
    add_model_flags(add)
    add("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    add("--steps", type=int, default=15, help="timed steps (parameter updates) per run and round")
    add("--warmup", type=int, default=3, help="untimed steps first (tracing, compilation, caches)")
    add("--jit_compile", default="auto", choices=("auto", "true", "false"),
        help="Keras compile(jit_compile=): auto is what the recipe gets (no XLA on a CPU-only TF machine)")
    add("--tf_kernels", default="auto", choices=("auto", *TF_KERNELS, "both"),
        help="TensorFlow's CPU kernels: onednn (the recipes'), default (TF_ENABLE_ONEDNN_OPTS=0), both, or auto "
             "(this process's)")
    add("--deterministic", default=True, boolean=True,
        help="TensorFlow: as the recipe, op determinism and one inter-op thread (tfzoo.training.determinism); "
             "false: TensorFlow's default threads, faster and not bit-reproducible")
    add("--lr", type=float, default=0.05)
    add("--weight_decay", type=float, default=5e-4)
    add("--num_classes", type=int, default=10)
    add("--image_size", type=int, default=32)
    add("--channels", type=int, default=3)
    add("--compare", action="store_true", help="keras vs torch in fp32/bf16, BN vs ghost BN vs none, pipeline")
    add("--targets", action="store_true",
        help="issue 24's acceptance: keras vs torch, BN and none/ZeroInit, fp32 and (native bf16 CPUs) bf16; "
             "prints each target and whether it is met")
    add("--torch", action="store_true", help="also time the PyTorch twin at --precision (fp32, or bf16 autocast)")
    add("--torch_memory_format", default="channels_last", choices=("channels_last", "contiguous"),
        help="PyTorch's activation layout: channels_last (NHWC, its faster CPU path here) or contiguous (NCHW)")
    add("--torch_device", default="auto", choices=("auto", "cpu", "cuda"),
        help="PyTorch's device: auto is the GPU where PyTorch sees one, else the CPU")
    add("--rounds", type=int, default=1, help="with several runs: repeat them, order reversed every other round")
    add("--interleave", default="process", choices=("process", "step"),
        help="with several runs: process (each run in a fresh process, one after another, --rounds times) or step "
             "(all runs alive at once, one step each in turn; adds step-by-step paired ratios)")
    add("--threads", type=int, default=0, help="intra-op threads for TensorFlow and PyTorch (0: their defaults)")
    add("--peak_size", type=int, default=2048, help="matmul side for the peak GFLOP/s (0: skip)")
    add("--data_dir", default=None,
        help="CIFAR-10 release for the pipeline figure of --compare (default: $TFZOO_DATA_DIR, then TFDS)")
    add("--run", default=None, help="internal: time one 'framework,precision,normalization,init' run here")
    add("--serve", action="store_true", help="internal, with --run: time one step per 'step' line read from stdin")
    add("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("batch_size", "ghost_batch_size", "steps", "image_size", "channels", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1. Received: {getattr(args, name)}")
    if args.warmup < 0 or args.threads < 0 or args.peak_size < 0:
        parser.error("--warmup, --threads and --peak_size must be >= 0")
    if args.interleave == "step" and args.rounds > 1:
        parser.error(f"--rounds={args.rounds} repeats whole processes, which --interleave=step does not; "
                     "give the steps with --steps")
    if args.torch_device == "cuda":
        import torch

        if not torch.cuda.is_available():
            parser.error("--torch_device=cuda: PyTorch sees no GPU here; accepted: auto (the GPU where there is one, "
                         "else the CPU) or cpu")
    if args.serve and not args.run:
        parser.error("--serve is internal: it needs --run")
    if args.targets and (args.compare or (args.normalization, args.init) != ("batch_norm", "standard")):
        parser.error("--targets times its own runs (BN and none/ZeroInit, fp32 and bf16); give neither --compare "
                     f"nor another normalization. Received: --normalization={args.normalization} --init={args.init}"
                     + (" --compare" if args.compare else ""))
    if args.torch and args.precision not in TORCH_PRECISIONS:
        parser.error(f"--torch times the PyTorch twin in {' or '.join(TORCH_PRECISIONS)}. "
                     f"Received: --precision={args.precision}")
    if args.run:
        parts = args.run.split(",")
        accepted = (("keras", "torch"), ("fp32", "bf16", "fp16"), tuple(NORMALIZATIONS), tuple(INIT_SCHEMES))
        if len(parts) != 4 or any(p not in ok for p, ok in zip(parts, accepted)):
            parser.error(f"--run takes framework,precision,normalization,init. Received: {args.run!r}")
        if parts[0] == "torch" and parts[1] not in TORCH_PRECISIONS:
            parser.error(f"--run: the PyTorch twin runs in {' or '.join(TORCH_PRECISIONS)}. Received: {args.run!r}")
    run_normalization = args.run.split(",")[2] if args.run else args.normalization
    ghost = args.compare or NORMALIZATIONS[run_normalization].statistics == "ghost"
    if ghost and args.batch_size % args.ghost_batch_size:
        parser.error(f"ghost BN needs --batch_size a multiple of --ghost_batch_size. Received: --batch_size="
                     f"{args.batch_size} --ghost_batch_size={args.ghost_batch_size}")
    if args.tf_kernels != "auto":
        import keras

        if keras.backend.backend() != "tensorflow":
            parser.error(f"--tf_kernels={args.tf_kernels} needs the TensorFlow backend. "
                         f"Received: KERAS_BACKEND={keras.backend.backend()}")
    args.jit_compile = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    args.input_shape = (args.image_size, args.image_size, args.channels)
    from tfzoo.precision import cpu_flags, native_bf16

    args.native_bf16 = native_bf16(cpu_flags())
    return args
