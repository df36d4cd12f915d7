"""Figure 3 (section 4) and Figure 4 (appendix A) of "Batch normalization has multiple benefits":
WRN-16-4 in the small-batch limit, 1 <= B <= 1024, with plain batch normalization (statistics over the
whole batch, no ghost batches: Figure 3's caption), without normalization, and with ZeroInit.

    python -m recipes.paper.small_batch --scale=cpu --output_dir=runs/paper/small_batch_cpu
    python -m recipes.paper.small_batch --scale=paper --data_dir=/path/to/cifar-10-batches-py \\
        --output_dir=runs/paper/small_batch

Section 4 compares ZeroInit and batch normalization; Figure 4's caption speaks of "all three
methods", so the standard-init network without normalization is a third curve. One
learning-rate search per (condition, batch size), its grid sliding with B. Writes
``performance.png`` (Figure 3), ``optimal_lr.png`` (Figure 4, log2-log2), ``table.md`` and
``results.json``; table.md checks the claims, among them that the optimal learning rate grows in
proportion to the batch size when the batch is small.
Exit codes: 0 done; 1 some trials failed (run again to retry); 2 bad flag, nothing written.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

from recipes.paper import batch_sweep, common, reference
from recipes.paper.common import Condition, Experiment, LrGrid, Scale

SMALL = 256  # section 4: ZeroInit is flat and the lr ~ B "in the small batch limit B <~ 256"
FLAT_WITHIN = 0.02  # "independent of the batch size": optimal test accuracies within 2 points

CONDITIONS = (
    Condition("batch_norm", "batch normalization (whole batch)", "batch_norm", "standard"),
    Condition("none", "no normalization", "none", "standard"),
    Condition("zeroinit", "ZeroInit", "none", "zeroinit"),
)

SCALES = {
    "paper": Scale(depths=(16,), width=4, batch_sizes=tuple(2**i for i in range(0, 11)),
                   lr=LrGrid(-4, 1, reference_batch=64, floor=-4, ceiling=5), runs=15, best=12, epochs=200,
                   max_train_examples=None,
                   notes="adds the no-normalization curve (Figure 4's \"three methods\"); the text gives no grid: "
                         "2^-4..2^1 at batch 64, slid by log2(B/64) (2^-10..2^-5 at B = 1), down to 2^-4 and up to 2^5."),
    "cpu": Scale(depths=(10,), width=1, batch_sizes=(2, 8, 32, 128), lr=LrGrid(-6, -1, reference_batch=32),
                 runs=1, best=1, epochs=3, max_train_examples=1024,
                 notes="WRN-10-1, not 16-4; batch sizes 2..128, not 1..1024; 3 epochs on the first 1,024 images of the "
                       "5,170-image CIFAR-10 subset (1,536 updates at B = 2, 24 at B = 128), tested on its 1,017 test "
                       "images; 6 learning rates per batch size (2^-6..2^-1 at B = 32: the first CPU run, with 2^-5..2^-1, "
                       "found most optima without batch norm at its lower edge), 1 run each (no best-k averaging)."),
    "smoke": Scale(depths=(10,), width=1, batch_sizes=(8, 32), lr=LrGrid(-4, -3, reference_batch=32), runs=1, best=1,
                   epochs=1, max_train_examples=128,
                   notes="a test of the machinery only (WRN-10-1, 128 images, 1 epoch, 2 learning rates, 1 run): "
                         "the numbers mean nothing."),
}


def claims(outcomes):
    """Figures 3-4's claims, on our optima."""
    curves = batch_sweep.by_condition(outcomes)
    zeroinit, bn = curves["zeroinit"], curves["batch_norm"]
    smallest = min(bn)
    out = []
    for c in reference.FIGURES_3_4:
        if c.key == "bn_best_loss":
            out.append(batch_sweep.compare_at_each_batch(c, curves, "batch_norm", ("zeroinit",), "train_loss"))
        elif c.key == "bn_drops_small_batch":
            a, z = bn[smallest].value("test_accuracy"), zeroinit[smallest].value("test_accuracy")
            ours = (f"at B = {smallest}: batch norm {a * 100:.1f} %, ZeroInit {z * 100:.1f} %" if None not in (a, z)
                    else f"at B = {smallest}: no optimum for one of them")
            out.append(common.claim(c, ours, None if None in (a, z) else a < z))
        elif c.key == "zeroinit_flat":
            values = {b: o.value("test_accuracy") for b, o in sorted(zeroinit.items()) if b <= SMALL}
            finite = [v for v in values.values() if v is not None]
            spread = max(finite) - min(finite) if len(finite) > 1 else None
            ours = "ZeroInit: " + ", ".join(f"B={b}: {'—' if v is None else f'{v * 100:.1f} %'}" for b, v in values.items())
            ours += "" if spread is None else f" (spread {spread * 100:.1f} points)"
            holds = None if spread is None or len(finite) < len(values) else spread <= FLAT_WITHIN
            out.append(common.claim(c, ours, holds))
        else:  # lr_proportional, and "similar learning rates at the same batch size"
            claim = batch_sweep.proportional_claim(c, curves, SMALL)
            gaps = []
            for b in sorted(bn):
                exps = [curve[b].optimum("test_accuracy")["lr_exponent"] for curve in curves.values()]
                if b <= SMALL and None not in exps:
                    gaps.append(max(exps) - min(exps))
            claim["ours"] += f"; largest gap between methods at one B: {max(gaps) if gaps else '—'} octaves"
            if claim["holds"] is not None:
                claim["holds"] = claim["holds"] and bool(gaps) and max(gaps) <= 1
            out.append(claim)
    return out


def report(outcomes, scale, out):
    """Figures 3-4: the plots, the numbers behind them, and the paper's claims checked."""
    performance, optimal_lr = batch_sweep.plot(outcomes, out)
    table, rows = batch_sweep.sweep_table(outcomes)
    low, high = batch_sweep.SLOPE_RANGE
    body = ("## Figures 3-4: the small-batch limit, batch statistics over the whole batch\n\n"
            f"Figure 3: `{performance.name}`; Figure 4: `{optimal_lr.name}` (hollow markers: optimum at the grid's edge). "
            "The paper prints no numbers for these figures; the claims below are its text's. \"Proportional\": the slope "
            f"of log2(optimal lr) on log2(B) for B <= {SMALL} is in [{low}, {high}] for every method, no optimum at a "
            f"grid edge, and the methods' optima at each B within 1 octave; \"independent of the batch size\": within "
            f"{FLAT_WITHIN * 100:.0f} points.\n\n" + table)
    return body, rows, claims(outcomes)


EXPERIMENT = Experiment("small_batch", "Figures 3-4: the small-batch limit", CONDITIONS, SCALES, report)

if __name__ == "__main__":
    common.run(EXPERIMENT)
