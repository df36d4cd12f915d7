"""Runs side by side (``tfzoo.analysis.runs``, ``python -m recipes.compare_runs``): the final figures come
from results.json where a run has finished and from its last epoch otherwise, and bad paths are one line."""

import json

import pytest

from tests.cli_cases import assert_one_error, run_cases
from tfzoo.analysis.runs import RunError, line_styles, plot_comparison, read_run, summary_table
from tfzoo.training.outputs import write_history


def _history(epochs, final_accuracy, seconds):
    return [{"epoch": e, "loss": 2.0 / e, "cross_entropy": 1.5 / e, "accuracy": final_accuracy * e / epochs,
             "val_accuracy": final_accuracy - 0.01 * (epochs - e), "val_cross_entropy": 1.0 / e,
             "lr": 0.1, "seconds": seconds + (100.0 if e == 1 else 0.0)} for e in range(1, epochs + 1)]


@pytest.fixture
def runs(tmp_path):
    finished = tmp_path / "bn"
    finished.mkdir()
    write_history(_history(4, 0.9, 60.0), finished / "history.csv")
    (finished / "results.json").write_text(json.dumps(
        {"test_accuracy": 0.9123, "test_loss": 0.25, "train_loss": 0.2, "train_cross_entropy": 0.1}))
    write_history(_history(3, 0.8, 30.0), tmp_path / "zeroinit_history.csv")
    return finished, tmp_path / "zeroinit_history.csv"


def test_final_figures_from_results_or_the_last_epoch(runs):
    finished, history = runs
    bn, zeroinit = read_run(finished), read_run(history, label="ZeroInit")
    assert (bn.label, bn.finished, len(bn.history)) == ("bn", True, 4)
    assert bn.final("test_accuracy") == 0.9123 and bn.final("train_loss") == 0.2
    assert bn.seconds_per_epoch == 60.0  # the median: the slow first epoch does not count
    assert read_run(history).label == "zeroinit"
    assert (zeroinit.label, zeroinit.finished) == ("ZeroInit", False)
    assert zeroinit.final("test_accuracy") == pytest.approx(0.8) and zeroinit.final("train_loss") == pytest.approx(2 / 3)
    table = summary_table([bn, zeroinit]).splitlines()
    assert table[2] == "| bn | 4 | 91.23% | 0.2500 | 0.2000 | 0.1000 | 60 |"
    assert table[3] == "| ZeroInit * | 3 | 80.00% | 0.3333 | 0.6667 | 0.5000 | 30 |"
    assert table[-1].startswith("\\* no results.json")


def test_comparison_figure_is_a_png(runs, tmp_path):
    plot_comparison([read_run(path) for path in runs], tmp_path / "cmp.png", title="t")
    data = (tmp_path / "cmp.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_every_run_has_its_own_line_beyond_ten_runs(runs, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures, close = [], plt.close
    monkeypatch.setattr(plt, "close", lambda fig: (figures.append(fig), close(fig)))
    many = [read_run(runs[1], label=f"run {i}") for i in range(12)]
    plot_comparison(many, tmp_path / "many.png")
    lines = figures[0].axes[1].lines
    looks = {(line.get_color(), line.get_linestyle()) for line in lines}
    assert len(lines) == 12 and len(looks) == 12  # with colours alone, runs 1 and 11 would look the same
    assert [s["linestyle"] for s in line_styles(12)] == ["-"] * 10 + ["--"] * 2


def test_bad_runs_are_one_line_errors(tmp_path):
    (tmp_path / "empty_run").mkdir()
    (tmp_path / "empty.csv").write_text("")
    for path, message in ((tmp_path / "nope", "does not exist"), (tmp_path / "empty_run", "holds no history.csv"),
                          (tmp_path / "empty.csv", "has no epochs")):
        with pytest.raises(RunError, match=message):
            read_run(path)


def test_cli_prints_the_table_and_writes_nothing_on_bad_input(runs, tmp_path):
    finished, history = runs
    out = tmp_path / "out"
    out.mkdir()
    good, missing, labels, no_png = run_cases("recipes.compare_runs", [
        [str(finished), str(history), "--labels=BN,ZeroInit", f"--output={out / 'c.png'}", f"--table={out / 'c.md'}"],
        [str(finished), str(tmp_path / "nope"), f"--output={out / 'x.png'}"],
        [str(finished), str(history), "--labels=BN", f"--output={out / 'x.png'}"],
        [str(finished), f"--output={out / 'x.jpg'}"],
    ])
    assert good.returncode == 0, good.stderr[-2000:]
    assert "| BN | 4 | 91.23% |" in good.stdout and "| ZeroInit * | 3 | 80.00% |" in good.stdout
    assert (out / "c.md").read_text().splitlines()[2].startswith("| BN | 4 | 91.23% |")
    assert_one_error(missing, "nope does not exist")
    assert_one_error(labels, "--labels has 1 labels for 2 runs")
    assert_one_error(no_png, "--output must name the .png")
    assert sorted(p.name for p in out.iterdir()) == ["c.md", "c.png"]
