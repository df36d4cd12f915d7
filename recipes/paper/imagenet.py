"""Tables 4-5 of "Batch normalization has multiple benefits" (section 5): ResNet-50-V2 and -V1
on ImageNet with batch normalization, Fixup and ZeroInit (and its variants), at batch sizes 256,
1024 and 4096.

    python -m recipes.paper.imagenet --scale=paper --data_dir=/path/to/imagenet/manual \\
        --output_dir=runs/paper/imagenet

Paper scale only: 8 conditions x 3 batch sizes x a learning-rate grid, one run per point, each run
``recipes.imagenet_resnet``'s protocol (90 epochs; the learning rate constant for 45 epochs, then
halved every 5; ghost batch 256; ZeroInit's classifier dropout 0.2): 144 runs, some 13,000
ResNet-50 epochs over ImageNet, far beyond 2 CPU cores, so there is no CPU scale.
``--data_dir`` is TFDS's manual directory (docs/data.md, "ImageNet"). Writes ``table.md`` (Tables 4 and 5
in the paper's layout, top-1 / top-5 beside the paper's, its claims checked) and ``results.json``.
``--scale=smoke`` exists for the tests, on TFDS's synthetic mock data.
Exit codes: 0 done; 1 some trials failed (run again to retry); 2 bad flag, nothing written.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import json

from recipes.paper import common, reference
from recipes.paper.common import Condition, Experiment, LrGrid, Scale

COMPETITIVE = 0.01  # "competitive": top-1 within 1 point of batch normalization's
SIGNIFICANT = 0.02  # "performs well": within 2 points; "significantly underperforms": more than 2 points below
V2, V1 = "resnet{depth}_v2", "resnet{depth}_v1"

CONDITIONS = (
    Condition("v2_batch_norm", "V2: Batch Normalization", "batch_norm", "standard", (), V2),
    Condition("v2_fixup", "V2: Fixup", "none", "fixup", (), V2),
    Condition("v2_zeroinit_no_dropout", "V2: ZeroInit without Dropout", "none", "zeroinit",
              (("classifier_dropout", 0.0),), V2),
    Condition("v2_zeroinit", "V2: ZeroInit", "none", "zeroinit", (), V2),
    Condition("v1_batch_norm", "V1: Batch Normalization", "batch_norm", "standard", (), V1),
    Condition("v1_fixup", "V1: Fixup", "none", "fixup", (), V1),
    Condition("v1_zeroinit", "V1: ZeroInit", "none", "zeroinit", (), V1),
    Condition("v1_zeroinit_scalar_bias", "V1: ZeroInit + Scalar Bias", "none", "zeroinit", (("scalar_bias", True),), V1),
)

SCALES = {
    "paper": Scale(depths=(50,), width=0, batch_sizes=(256, 1024, 4096), lr=LrGrid(-5, 0, reference_batch=256),
                   runs=1, best=1, epochs=reference.SECTION_5["epochs"], max_train_examples=None,
                   notes="the paper does not print its grid: 2^-5..2^0 at batch 256 (0.1 x B/256 is 2^-3.3), slid by "
                         "log2(B/256); the L2 coefficient is not stated either, we keep section 3's 5e-4."),
    "smoke": Scale(depths=(18,), width=0, batch_sizes=(8,), lr=LrGrid(-3, -3), runs=1, best=1, epochs=1,
                   max_train_examples=16,
                   notes="a test of the machinery only, on SYNTHETIC data (TFDS mock_data: random images and labels), "
                         "ResNet-18 at batch 8, 16 images, 1 epoch, 1 learning rate: the numbers mean nothing."),
}


def top5(outcome, out):
    """The top-5 accuracy of the run at the optimal top-1 learning rate (its trial's results.json)."""
    exponent = outcome.optimum("test_accuracy")["lr_exponent"]
    runs = [r for r in outcome.results if r.spec.lr_exponent == exponent and not r.diverged]
    if exponent is None or not runs or out is None:
        return None
    best = max(runs, key=lambda r: r.test_accuracy)
    path = out / outcome.search.folder / "trials" / best.spec.name / "results.json"
    return json.loads(path.read_text()).get("test_top5_accuracy")


def _cell(top1, top5_):
    if top1 is None:
        return "—"
    return f"{top1 * 100:.2f} / " + ("—" if top5_ is None else f"{top5_ * 100:.2f}")


def claims(outcomes):
    """Tables 4-5's claims on our top-1 optima, at our smallest and largest batch size."""
    top1 = {(o.search.condition.key, o.search.batch_size): o.value("test_accuracy") for o in outcomes}
    batches = sorted({o.search.batch_size for o in outcomes})
    small, large = batches[0], batches[-1]

    def at(key, b):
        value = top1[key, b]
        return "—" if value is None else f"{value * 100:.2f}"

    def gap(key, b, reference_key):  # key's top-1 minus the reference's; None if either is missing
        a, r = top1[key, b], top1[reference_key, b]
        return None if a is None or r is None else a - r

    def verdict(*checks):
        return None if any(c is None for c in checks) else all(checks)

    out = []
    for c in reference.TABLES_4_5_CLAIMS:
        if c.key == "v2_competitive_small":
            gaps = [gap(k, small, "v2_batch_norm") for k in ("v2_fixup", "v2_zeroinit")]
            ours = f"B={small}: BN {at('v2_batch_norm', small)}, Fixup {at('v2_fixup', small)}, " \
                   f"ZeroInit {at('v2_zeroinit', small)}"
            holds = verdict(*[None if g is None else g >= -COMPETITIVE for g in gaps])
        elif c.key == "v2_bn_better_large":
            gaps = [gap(k, large, "v2_batch_norm") for k in ("v2_fixup", "v2_zeroinit")]
            ours = f"B={large}: BN {at('v2_batch_norm', large)}, Fixup {at('v2_fixup', large)}, " \
                   f"ZeroInit {at('v2_zeroinit', large)}"
            holds = verdict(*[None if g is None else g < 0 for g in gaps])
        elif c.key == "v1_fixup_large":
            g_small, g_large = gap("v1_fixup", small, "v1_batch_norm"), gap("v1_fixup", large, "v1_batch_norm")
            ours = f"Fixup - BN: B={small}: {'—' if g_small is None else f'{g_small * 100:+.2f}'}, " \
                   f"B={large}: {'—' if g_large is None else f'{g_large * 100:+.2f}'} points"
            holds = verdict(None if g_small is None else g_small >= -SIGNIFICANT,
                            None if g_large is None else g_large < -SIGNIFICANT)
        else:  # v1_scalar_bias
            ours = "; ".join(f"B={b}: ZeroInit {at('v1_zeroinit', b)}, + scalar bias "
                             f"{at('v1_zeroinit_scalar_bias', b)}, BN {at('v1_batch_norm', b)}" for b in batches)
            checks = []
            for b in batches:
                gaps = [gap("v1_zeroinit", b, k) for k in ("v1_batch_norm", "v1_fixup")]
                checks += [None if g is None else g < 0 for g in gaps]
                g = gap("v1_zeroinit_scalar_bias", b, "v1_zeroinit")
                checks.append(None if g is None else g > 0)
            holds = verdict(*checks)
        out.append(common.claim(c, ours, holds))
    return out


def report(outcomes, scale, out):
    """Tables 4 and 5: by batch size, then our top-1; the paper's cell beside ours."""
    header = ("batch size", "method", "top-1 / top-5 (%)", "optimal lr", "paper top-1 / top-5")
    sections, rows = [], []
    for number, version, paper in ((4, "v2", reference.TABLE_4), (5, "v1", reference.TABLE_5)):
        table = []
        mine = [o for o in outcomes if o.search.condition.key.startswith(version + "_")]
        for b in sorted({o.search.batch_size for o in mine}):
            for o in common.by_test_accuracy([o for o in mine if o.search.batch_size == b]):
                key, acc = o.search.condition.key, o.optimum("test_accuracy")
                five = top5(o, out)
                cell = paper.get((key, b))
                table.append((b, common.labelled(o), _cell(acc["mean"], five), common.format_lr(acc),
                              str(cell) if cell else "—"))
                rows.append({"table": number, "batch_size": b, "condition": key, "method": o.search.condition.label,
                             "model": o.search.model, "test_accuracy": acc, "top5_accuracy": five,
                             "paper": None if cell is None else str(cell)})
        model = mine[0].search.model if mine else f"resnet50_{version}"
        sections.append(f"## Table {number}: ResNet-50-{version.upper()} on ImageNet (ours: {model})\n\n"
                        + common.markdown_table(header, table))
    body = ("Top-1 / top-5 validation accuracy of the single run at the learning rate that maximizes top-1, as in "
            "the paper (— in \"paper\": the paper has no cell at this batch size). \"Competitive\": top-1 within "
            f"{COMPETITIVE * 100:.0f} point of batch normalization's; \"performs well\" / \"significantly "
            f"underperforms\": within / more than {SIGNIFICANT * 100:.0f} points.\n\n" + "\n\n".join(sections))
    return body, rows, claims(outcomes)


EXPERIMENT = Experiment(
    "imagenet", "Tables 4-5: ResNet-50 on ImageNet with and without normalization", CONDITIONS, SCALES, report,
    dataset="imagenet2012", dataset_label="ImageNet", full_train=1_281_167, ghost_batch=256,
    defaults=tuple((k, v) for k, v in reference.SECTION_5.items() if k not in ("epochs", "ghost_batch_size"))
    + (("eval_batch_size", 250),))

if __name__ == "__main__":
    common.run(EXPERIMENT)
