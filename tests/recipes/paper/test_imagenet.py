"""recipes.paper.imagenet (Tables 4-5) end to end on SYNTHETIC data: TFDS's ``mock_data`` serves
random-noise images with random labels in place of ImageNet (none exists on this machine), so this
checks the protocol, the plumbing and the table, not accuracy. The claims are checked both ways on
made-up outcomes."""

import json

import pytest

from recipes.paper import imagenet, reference
from tests.cli_cases import assert_one_error, error_lines
from tests.recipes.mock_imagenet import run_on_mock_imagenet
from tests.recipes.paper.test_claims import by_key, outcome

def _run(tmp_path, *flags):
    return run_on_mock_imagenet(
        tmp_path, "from recipes.paper import common, imagenet; sys.argv[0] = 'imagenet'; common.run(imagenet.EXPERIMENT)",
        *flags)


@pytest.mark.slow
def test_tables_4_5_on_synthetic_imagenet(tmp_path):
    out = tmp_path / "out"
    result = _run(tmp_path, "--scale=smoke", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "8 searches, 8 trials (8 to run); 16 training / 16 test images" in result.stdout
    assert "estimated time: none" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert [(r["table"], r["condition"]) for r in results["rows"] if r["table"] == 4] and len(results["rows"]) == 8
    for search in results["searches"]:
        trial = search["trials"][0]
        ran = json.loads((out / search["folder"] / "trials" / trial["name"] / "results.json").read_text())
        config = {**ran["config"], **ran["config"]["options"]}  # the run options recorded under "options"
        assert ran["dataset"] == "imagenet2012" and config["model"] == search["model"]
        assert search["model"] == ("resnet18_v2" if search["condition"].startswith("v2_") else "resnet18_v1")
        # section 5's schedule and ghost batch (256, or the whole batch when smaller)
        assert (config["hold_epochs"], config["decay_every"], config["ghost_batch_size"]) == (45, 5, 8)
        assert config["classifier_dropout"] == (0.0 if search["condition"] == "v2_zeroinit_no_dropout" else None)
        assert config["scalar_bias"] == (search["condition"] == "v1_zeroinit_scalar_bias")
        row = next(r for r in results["rows"] if r["condition"] == search["condition"])
        assert row["test_accuracy"]["mean"] == pytest.approx(ran["test_accuracy"])
        assert row["top5_accuracy"] == pytest.approx(ran["test_top5_accuracy"]) and row["top5_accuracy"] >= ran[
            "test_accuracy"]
    text = (out / "table.md").read_text()
    assert "## Table 4: ResNet-50-V2 on ImageNet (ours: resnet18_v2)" in text
    assert "## Table 5: ResNet-50-V1 on ImageNet (ours: resnet18_v1)" in text
    assert "SYNTHETIC data" in text and [c["key"] for c in results["claims"]] == [
        c.key for c in reference.TABLES_4_5_CLAIMS]


def test_paper_scale_refuses_a_small_imagenet(tmp_path):
    result = _run(tmp_path, "--scale=paper", f"--output_dir={tmp_path / 'out'}")
    assert_one_error(result, "trains on the full ImageNet (1,281,167 training images)")
    assert "has 16" in error_lines(result)[0]
    assert not (tmp_path / "out").exists()


def test_there_is_no_cpu_scale(tmp_path):
    result = _run(tmp_path, "--scale=cpu", f"--output_dir={tmp_path / 'out'}")
    assert result.returncode == 2 and "--scale" in result.stderr and not (tmp_path / "out").exists()


def test_paper_protocol_is_section_5():
    paper = imagenet.SCALES["paper"]
    assert (paper.depths, paper.batch_sizes, paper.runs, paper.best, paper.epochs) == ((50,), (256, 1024, 4096), 1, 1, 90)
    assert imagenet.EXPERIMENT.ghost_batch == 256 and dict(imagenet.EXPERIMENT.defaults)["hold_epochs"] == 45
    assert {(c.key, b) for c in imagenet.CONDITIONS for b in paper.batch_sizes} == {*reference.TABLE_4,
                                                                                 *reference.TABLE_5}


def _outcomes(top1):
    """{(condition, batch): top-1} -> made-up Outcomes (no trial folders: top-5 is —)."""
    return [outcome(imagenet.EXPERIMENT, key, acc, 1.0, batch=b) for (key, b), acc in top1.items()]


def test_claims_both_ways():
    paper = {k: c.top1 / 100 for k, c in {**reference.TABLE_4, **reference.TABLE_5}.items()}
    claims = by_key(imagenet.claims(_outcomes(paper)))
    assert all(c["holds"] for c in claims.values()), claims  # the paper's own numbers satisfy its claims
    assert claims["v1_fixup_large"]["ours"] == "Fixup - BN: B=256: -1.16, B=4096: -3.00 points"
    worse = dict(paper)
    worse["v2_fixup", 256] = 0.70  # 5 points below batch norm: not competitive
    worse["v1_zeroinit_scalar_bias", 1024] = 0.60  # the scalar bias hurts at one batch size
    claims = by_key(imagenet.claims(_outcomes(worse)))
    assert claims["v2_competitive_small"]["holds"] is False and claims["v1_scalar_bias"]["holds"] is False
    assert claims["v2_bn_better_large"]["holds"] is True
    body, rows, _ = imagenet.report(_outcomes(paper), imagenet.SCALES["paper"], None)
    assert "| 256 | V2: ZeroInit | 75.56 / — | 2^-2 | 75.56 / 92.35 |" in body
