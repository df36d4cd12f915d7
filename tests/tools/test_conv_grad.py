"""tools.conv_grad: every weight-gradient form it times computes the same dW, and its JSON adds up."""

import numpy as np
import pytest

from tests.cli_cases import assert_main_refuses
from tools import conv_grad, layer_timing

SHAPE = (2, 5, 4, 3, 6)  # N, H, W, C, O: odd and even sizes, so a wrong padding or tap order shows


def reference(shape):
    """dW[i, j, c, o] = sum over n, y, x of x_padded[n, y + i, x + j, c] * dy[n, y, x, o], written out."""
    x, dy = conv_grad.random_pair(shape)
    n, h, w, c, o = shape
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)]).astype("float64")
    return np.stack([np.stack([np.einsum("nyxc,nyxo->co", padded[:, i:i + h, j:j + w], dy) for j in range(3)])
                     for i in range(3)])


def test_every_form_gives_the_convolutions_weight_gradient():
    expected = reference(SHAPE)
    assert expected.shape == (3, 3, 3, 6) and np.abs(expected).max() > 1.0
    for impl in ("tf_conv", "tf_patches", "tf_taps"):
        np.testing.assert_allclose(conv_grad.tf_grad(impl, SHAPE)(), expected, rtol=1e-4, atol=1e-4, err_msg=impl)
    bf16 = conv_grad.tf_grad("tf_taps", SHAPE, "bf16")()
    assert np.abs(bf16 - expected).max() < 0.05 * np.abs(expected).max()  # bf16 inputs: close, not equal
    pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    np.testing.assert_allclose(conv_grad.torch_grad(SHAPE)(), expected, rtol=1e-4, atol=1e-4)


def test_timings_ratios_and_cpu(capsys):
    result = conv_grad.main(["--impl=tf_conv,tf_taps", "--shapes=2x4x4x8x8,2x2x2x16x16", "--repeats=2"])
    assert set(result["ms"]) == {"tf_conv", "tf_taps"}
    assert all(ms > 0 for by_shape in result["ms"].values() for ms in by_shape.values())
    assert result["time_vs_tf_conv"]["tf_taps"]["2x2x2x16x16"] == round(
        result["ms"]["tf_taps"]["2x2x2x16x16"] / result["ms"]["tf_conv"]["2x2x2x16x16"], 3)
    assert result["cpu"]["cpu_count"] >= 1 and result["precision"] == "fp32"
    assert capsys.readouterr().out.strip().splitlines()[0].startswith("tf_conv    2x4x4x8x8:")


@pytest.mark.parametrize("argv, named", [(["--impl=cudnn"], "'cudnn'"), (["--shapes=64x32x32x8"], "'64x32x32x8'"),
                                         (["--shapes=64x0x32x8x8"], "'64x0x32x8x8'"), (["--repeats=0"], "Received: 0"),
                                         (["--precision=fp16"], "--precision=fp16")])
def test_bad_flags_exit_2_naming_the_value(argv, named, capsys):
    assert_main_refuses(conv_grad.main, argv, capsys, named)


def test_torch_figures_come_from_one_child_process(monkeypatch):
    pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    calls = []
    run = layer_timing.subprocess.run

    def counted(argv, **kwargs):
        calls.append(argv)
        return run(argv, **kwargs)

    monkeypatch.setattr(layer_timing.subprocess, "run", counted)
    result = conv_grad.main(["--impl=tf_conv,torch", "--shapes=2x4x4x8x8", "--repeats=1"])
    assert len(calls) == 1 and "--impl=torch" in calls[0]  # the child measures, it does not spawn again
    assert set(result["ms"]) == {"tf_conv", "torch"} and result["ms"]["torch"]["2x4x4x8x8"] > 0
