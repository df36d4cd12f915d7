"""tools.batch_norm: the BN implementations it times compute the same gradients, and its JSON adds up."""

import numpy as np
import pytest

from tests.cli_cases import assert_main_refuses
from tools import batch_norm

SHAPE = (8, 4, 4, 8)


def test_every_batch_norm_gives_the_same_input_gradient():
    keras_dx = batch_norm.tf_step("keras", SHAPE)()
    assert keras_dx.shape == SHAPE and np.abs(keras_dx).max() > 1e-3  # not trivially zero
    for impl in ("tfzoo", "tfzoo_ops", "tf_fused"):
        np.testing.assert_allclose(batch_norm.tf_step(impl, SHAPE)(), keras_dx, atol=1e-4, err_msg=impl)
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    torch_dx = batch_norm.torch_step(SHAPE)().numpy()
    np.testing.assert_allclose(torch_dx, keras_dx, atol=1e-4)
    assert torch.get_num_threads() >= 1


def test_ghost_batches_through_either_path_give_the_same_input_gradient_in_bf16_too():
    for precision, atol in (("fp32", 1e-4), ("bf16", 0.1)):
        ops_dx = np.asarray(batch_norm.tf_step("ghost_ops", SHAPE, precision, ghost_batch_size=4)(), "float32")
        fused_dx = np.asarray(batch_norm.tf_step("ghost", SHAPE, precision, ghost_batch_size=4)(), "float32")
        assert np.abs(ops_dx).max() > 1e-2
        np.testing.assert_allclose(fused_dx, ops_dx, atol=atol, err_msg=precision)
    whole = batch_norm.tf_step("tfzoo", SHAPE)()  # ghost batches of 4 are not BN over the batch of 8
    assert np.abs(whole - batch_norm.tf_step("ghost", SHAPE, ghost_batch_size=4)()).max() > 1e-2


def test_timings_and_ratios(capsys):
    result = batch_norm.main(["--impl=keras,tf_fused", "--shapes=8x4x4x8,8x2x2x16", "--repeats=2"])
    assert set(result["ms"]) == {"keras", "tf_fused"} and all(
        ms > 0 for by_shape in result["ms"].values() for ms in by_shape.values())
    ratio = result["over_keras"]["tf_fused"]["8x2x2x16"]
    assert ratio == round(result["ms"]["keras"]["8x2x2x16"] / result["ms"]["tf_fused"]["8x2x2x16"], 3)
    assert capsys.readouterr().out.strip().splitlines()[0].startswith("keras     8x4x4x8:")


@pytest.mark.parametrize("argv, named", [(["--impl=cudnn"], "'cudnn'"), (["--shapes=64x32x32"], "'64x32x32'"),
                                         (["--shapes=64x0x32x8"], "'64x0x32x8'"), (["--repeats=0"], "Received: 0"),
                                         (["--impl=ghost", "--shapes=6x2x2x4", "--ghost_batch_size=4"],
                                          "--ghost_batch_size=4 does not divide the batch of 6x2x2x4")])
def test_bad_flags_exit_2_naming_the_value(argv, named, capsys):
    assert_main_refuses(batch_norm.main, argv, capsys, named)
