"""tools.layer_timing: what the layer-timing tools share, here the path without PyTorch, through each tool."""

import pytest

from tools import batch_norm, conv_grad, layer_timing


@pytest.mark.parametrize("tool, tf_impl, shape", [(batch_norm, "keras", "8x2x2x16"), (conv_grad, "tf_conv", "2x2x2x4x4")])
def test_without_torch_the_tensorflow_figures_still_come(tool, tf_impl, shape, monkeypatch, capsys):
    monkeypatch.setattr(layer_timing, "torch_unavailable", lambda: "torch is not installed")
    result = tool.main([f"--impl={tf_impl},torch", f"--shapes={shape}", "--repeats=1"])
    assert set(result["ms"]) == {tf_impl} and result["torch_skipped"] == "torch is not installed"
    with pytest.raises(SystemExit) as exit_info:
        tool.main(["--impl=torch", f"--shapes={shape}"])
    assert exit_info.value.code == 2 and "torch is not installed" in capsys.readouterr().err
