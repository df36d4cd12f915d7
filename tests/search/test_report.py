"""Search files: trials.csv round trip (diverged rows empty), NaN-free summary.json, search identity."""

import json

import pytest

from tfzoo.search import Grid, TrialResult, TrialSpec, summarize
from tfzoo.search import report
from tfzoo.training import TrainConfig

GRID = Grid((16, 64), (-2, 8), runs=2)
RESULTS = [
    TrialResult(TrialSpec(64, -2, 1), 0.6125, 1.0625, False, 11.5),
    TrialResult(TrialSpec(16, -2, 0), 0.5, 1.5, False, 10.25),
    TrialResult(TrialSpec(16, 8, 0), None, None, True, 2.0),
]


def test_trials_csv_columns_order_and_round_trip(tmp_path):
    text = report.trials_csv(RESULTS)
    assert text.splitlines() == [
        "batch_size,lr,run,test_accuracy,train_loss,diverged,seconds",
        "16,0.25,0,0.5,1.5,false,10.25",
        "16,256.0,0,,,true,2.0",
        "64,0.25,1,0.6125,1.0625,false,11.5",
    ]
    (tmp_path / "trials.csv").write_text(text)
    assert report.read_trials_csv(tmp_path / "trials.csv") == sorted(RESULTS, key=lambda r: r.spec)


def test_outputs_are_written_and_loadable(tmp_path):
    search = report.search_identity("wrn-10-1", GRID, TrainConfig.create(model="wrn-10-1", normalization="none", init="standard"))
    assert "lr" not in search["config"] and "batch_size" not in search["config"] and "output_dir" not in search["config"]
    summary = summarize(RESULTS, GRID, best=1)
    report.write_search(tmp_path, search)
    report.write_outputs(tmp_path, RESULTS, summary, search, best=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["search.json", "summary.json", "summary.md", "trials.csv"]
    loaded_search, loaded_summary = report.load(tmp_path)
    assert loaded_search == json.loads(json.dumps(search)) and list(loaded_summary) == ["16", "64"]
    assert json.loads((tmp_path / "summary.json").read_text(), parse_constant=pytest.fail) == loaded_summary
    assert loaded_summary["16"]["grid"][1]["test_accuracy"] == {"mean": None, "std": None, "n": 0}
    assert "| 16 | 50.0 ± 0.0 | 2^-2 (edge) | 1.500 ± 0.000 | 2^-2 (edge) |" in (tmp_path / "summary.md").read_text()


def test_a_directory_holding_another_search_is_refused(tmp_path):
    config = TrainConfig.create(model="wrn-10-1", epochs=1)
    search = report.search_identity("wrn-10-1", GRID, config)
    report.check_search(tmp_path, search)  # nothing there yet
    report.write_search(tmp_path, search)
    report.check_search(tmp_path, search)  # the same search: resumable
    other = report.search_identity("wrn-10-1", GRID, TrainConfig.create(model="wrn-10-1", epochs=2))
    with pytest.raises(ValueError, match=r"holds a search with epochs=1, not 2"):
        report.check_search(tmp_path, other)
    wider = report.search_identity("wrn-10-1", Grid((16, 64), (-3, -2, 8), runs=2), config)
    with pytest.raises(ValueError, match=r"lr_exponents=\[-2, 8\], not \[-3, -2, 8\]"):
        report.check_search(tmp_path, wider)
    with pytest.raises(ValueError, match="not a learning-rate search directory"):
        report.load(tmp_path)  # search.json but no summary.json
    older = {**search, "config": {k: v for k, v in search["config"].items() if k != "accumulate_ghost_batches"}}
    report.write_search(tmp_path, older)  # written before that field was added: resumes at its default
    report.check_search(tmp_path, search)
    with pytest.raises(ValueError, match="holds a search with accumulate_ghost_batches=True, not False"):
        report.check_search(tmp_path, report.search_identity(
            "wrn-10-1", GRID, TrainConfig.create(model="wrn-10-1", epochs=1, accumulate_ghost_batches=False)))


def test_a_search_of_other_kernels_is_refused(tmp_path):
    search = report.search_identity("wrn-10-1", GRID, TrainConfig.create(model="wrn-10-1", epochs=1))
    assert search["onednn"] in (True, False)
    report.write_search(tmp_path, {**search, "onednn": not search["onednn"]})
    with pytest.raises(ValueError, match=f"the search in {tmp_path} was written with"):
        report.check_search(tmp_path, search)
    report.write_search(tmp_path, {k: v for k, v in search.items() if k != "onednn"})  # written before 2026-12
    report.check_search(tmp_path, search)
