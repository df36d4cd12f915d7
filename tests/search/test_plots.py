"""Figures 1 and 2 of the paper from summaries: valid PNGs, overlays, output naming."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402

from tfzoo.search import Grid, TrialResult, TrialSpec, summarize  # noqa: E402
from tfzoo.search.plots import output_paths, plot_searches  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_valid_png(path):
    """The PNG signature, and matplotlib reads an RGBA image of a sensible size."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4) and 300 <= image.shape[0] <= 2000 and 600 <= image.shape[1] <= 3000
    assert image.std() > 0  # something is drawn


def _summary(shift, diverge_at=None):
    grid = Grid((16, 64, 256), (-4, -3, -2), runs=2)
    results = []
    for spec in grid.trials():
        diverged = spec.batch_size == diverge_at
        quality = 0.5 + shift - 0.1 * abs(spec.lr_exponent + 3) + 0.01 * spec.run
        results.append(TrialResult(spec, None if diverged else quality, None if diverged else 2 - quality, diverged, 1.0))
    return summarize(results, grid, best=1)


def test_overlay_writes_two_valid_pngs_and_leaves_no_temporary_files(tmp_path):
    searches = [("batch_norm/standard", _summary(0.2)), ("none/zeroinit", _summary(0.1, diverge_at=256))]
    performance, lr = plot_searches(searches, tmp_path / "figures" / "bn_vs_zeroinit")
    assert performance == tmp_path / "figures" / "bn_vs_zeroinit_performance.png"
    assert lr == tmp_path / "figures" / "bn_vs_zeroinit_optimal_lr.png"
    for path in (performance, lr):
        assert_valid_png(path)
    names = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert names == ["bn_vs_zeroinit_optimal_lr.png", "bn_vs_zeroinit_performance.png"]


def test_output_paths_folder_or_prefix(tmp_path):
    assert output_paths(tmp_path) == (tmp_path / "performance.png", tmp_path / "optimal_lr.png")
    assert output_paths(f"{tmp_path}/new/") == (tmp_path / "new" / "performance.png", tmp_path / "new" / "optimal_lr.png")
    assert output_paths(tmp_path / "fig.png") == (tmp_path / "fig_performance.png", tmp_path / "fig_optimal_lr.png")


def test_a_search_with_no_finite_optimum_still_plots(tmp_path):
    grid = Grid((64,), (8,), runs=1)
    summary = summarize([TrialResult(TrialSpec(64, 8, 0), None, None, True, 1.0)], grid, best=1)
    for path in plot_searches([("none/standard", summary)], f"{tmp_path}/"):
        assert_valid_png(path)
