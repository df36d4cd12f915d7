"""Tables 2-3 of "Batch normalization has multiple benefits" (section 4): WRN-d-2 at batch 64 across
depths d, with and without normalization.

    python -m recipes.paper.depth --scale=cpu --output_dir=runs/paper/depth_cpu
    python -m recipes.paper.depth --scale=paper --data_dir=/path/to/cifar-10-batches-py \\
        --output_dir=runs/paper/depth

Table 2: batch normalization vs ZeroInit; Table 3: ZeroInit without L2 (``weight_decay=0``) and
the scalar multiplier alone (``init="skipinit"``); plus no normalization with standard (He)
init, which the paper's tables leave out because it does not train very deep networks (the
premise of section 4; ``recipes.paper.signal`` shows why: the residual stream's variance grows
x1.8 per block). One learning-rate search per (condition, depth). ``--scale=cpu`` includes a
100-layer WRN-100-1, where the standard-init network fails (its loss is NaN by the second update)
while SkipInit and ZeroInit train; ``table.md`` checks that, and the tables' other claims.
Exit codes: 0 done; 1 some trials failed (run again to retry); 2 bad flag, nothing written.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

from recipes.paper import common, reference
from recipes.paper.common import Condition, Experiment, LrGrid, Scale

CHANCE = 0.10
TRAINS_AT = 0.20  # "trains": optimal test accuracy at least twice chance (10 classes)
FAILS_BELOW = 0.15  # "fails": no run finished without diverging, or accuracy within 5 points of chance

CONDITIONS = (
    Condition("batch_norm", "Batch Normalization", "batch_norm", "standard"),
    Condition("zeroinit", "ZeroInit", "none", "zeroinit"),
    Condition("zeroinit_no_l2", "ZeroInit without L2", "none", "zeroinit", (("weight_decay", 0.0),)),
    Condition("scalar_multiplier", "Scalar Multiplier", "none", "skipinit"),
    Condition("none", "no normalization, standard init (not in Tables 2-3)", "none", "standard"),
)

SCALES = {
    "paper": Scale(depths=(16, 100, 1000), width=2, batch_sizes=(64,), lr=LrGrid(-5, 1), runs=15, best=12, epochs=200,
                   max_train_examples=None,
                   notes="adds the standard-init row; the paper does not print its grid: 2^-5..2^1 brackets every optimum "
                         "and range in Tables 2-3 (2^-3..2^0)."),
    "cpu": Scale(depths=(16, 100), width=1, batch_sizes=(64,), lr=LrGrid(-6, -4), runs=1, best=1, epochs=3,
                 max_train_examples=2560,
                 notes="WRN-d-1, not d-2, and depths 16 and 100, not 16, 100 and 1000; 3 epochs (120 updates) on the first "
                       "2,560 images of the 5,170-image CIFAR-10 subset, tested on its 1,017 test images; learning rates "
                       "2^-6..2^-4 (a short budget favours smaller ones: ZeroInit WRN-100-1 reached 20.6 % at 2^-5 but "
                       "stayed at chance at 2^-3 in 60-80 updates here), 1 run each (no best-k averaging). Enough to see "
                       "which networks train at all, not to rank those that do."),
    "smoke": Scale(depths=(16,), width=1, batch_sizes=(64,), lr=LrGrid(-3, -3), runs=1, best=1, epochs=1,
                   max_train_examples=128,
                   notes="a test of the machinery only (WRN-16-1, 128 images, 1 epoch, 1 learning rate, 1 run): "
                         "the numbers mean nothing."),
}


def paper_row(key, depth):
    """(table number, published Row) for a condition at a depth, or (None, None)."""
    for number, table in ((2, reference.TABLE_2), (3, reference.TABLE_3)):
        if (key, depth) in table:
            return number, table[(key, depth)]
    return None, None


def trains(outcome):
    value = outcome.value("test_accuracy")
    return value is not None and value >= TRAINS_AT


def fails(outcome):
    value = outcome.value("test_accuracy")
    return value is None or value < FAILS_BELOW


def _describe(outcome):
    value = outcome.value("test_accuracy")
    return common.status(outcome) if value is None else f"{value * 100:.1f} %"


def claims(outcomes):
    """Tables 2-3's claims, checked at our deepest depth (and across depths for the learning rate)."""
    at = {(o.search.condition.key, o.search.depth): o for o in outcomes}
    depths = sorted({o.search.depth for o in outcomes})
    deep = depths[-1]
    out = []
    for c in reference.TABLES_2_3_CLAIMS:
        if c.key in ("deep_trains", "no_l2_trains", "multiplier_trains"):
            keys = {"deep_trains": ("batch_norm", "zeroinit"), "no_l2_trains": ("zeroinit_no_l2",),
                    "multiplier_trains": ("scalar_multiplier",)}[c.key]
            ours = "; ".join(f"{at[k, deep].search.condition.label} at depth {deep}: {_describe(at[k, deep])}" for k in keys)
            holds = all(trains(at[k, deep]) for k in keys)
        elif c.key == "lr_weakly_depth":
            parts, spreads = [], []
            for k in ("batch_norm", "zeroinit"):
                exps = [at[k, d].optimum("test_accuracy")["lr_exponent"] for d in depths]
                parts.append(f"{at[k, deep].search.condition.label}: " + ", ".join(
                    f"d={d} 2^{e}" if e is not None else f"d={d} —" for d, e in zip(depths, exps)))
                spreads.append(None if None in exps else max(exps) - min(exps))
            ours = "; ".join(parts)
            holds = None if len(depths) < 2 or None in spreads else all(s <= 1 for s in spreads)
        else:  # standard_fails
            shallow = at["none", depths[0]]
            ours = (f"standard init, no normalization: depth {deep}: {_describe(at['none', deep])}"
                    + (f"; depth {depths[0]}: {_describe(shallow)}" if len(depths) > 1 else ""))
            holds = fails(at["none", deep]) and (len(depths) == 1 or trains(shallow))
        out.append(common.claim(c, ours, holds))
    return out


def report(outcomes, scale, out):
    """Tables 2-3 as one table: by depth, then our optimal test accuracy; the paper's cells beside ours."""
    header = ("depth", "method", "test accuracy (%)", "optimal lr", "paper (table)", "paper lr", "training loss",
              "optimal lr")
    table, rows = [], []
    for depth in sorted({o.search.depth for o in outcomes}):
        for o in common.by_test_accuracy([o for o in outcomes if o.search.depth == depth]):
            key = o.search.condition.key
            number, paper = paper_row(key, depth)
            acc, loss = o.optimum("test_accuracy"), o.optimum("train_loss")
            table.append((depth, common.labelled(o),
                          common.format_value(acc, "test_accuracy"), common.format_lr(acc),
                          f"{paper.test_accuracy} ({number})" if paper else "—", paper.lr if paper else "—",
                          common.format_value(loss, "train_loss"), common.format_lr(loss)))
            rows.append({"depth": depth, "condition": key, "method": o.search.condition.label, "test_accuracy": acc,
                         "train_loss": loss, "paper": None if paper is None else
                         {"table": number, "test_accuracy": str(paper.test_accuracy), "lr": str(paper.lr)}})
    body = ("## Tables 2-3: WRN-d-k at batch size 64 across depths\n\n"
            f"Paper: WRN-d-2 at depths 16, 100, 1000; ours: WRN-d-{scale.width}. The paper's cells are for the same "
            "depth (— where it has none); its training losses are not printed. A range after the paper's learning rate "
            f"is the one it prints. \"Trains\" below: optimal test accuracy >= {TRAINS_AT:.0%}; \"fails\": every run "
            f"diverged or accuracy < {FAILS_BELOW:.0%} (chance: {CHANCE:.0%}).\n\n" + common.markdown_table(header, table))
    return body, rows, claims(outcomes)


EXPERIMENT = Experiment("depth", "Tables 2-3: training deep WRNs with and without normalization", CONDITIONS, SCALES,
                        report)

if __name__ == "__main__":
    common.run(EXPERIMENT)
