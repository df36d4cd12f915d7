import numpy as np
import pytest

from tfzoo.layers import fixup_scale, he_normal, zeros


def test_fixup_scale_is_l_to_minus_one_over_2m_minus_2():
    assert fixup_scale(16, 2) == pytest.approx(16 ** -0.5)
    assert fixup_scale(16, 3) == pytest.approx(16 ** -0.25)
    assert fixup_scale(1, 2) == 1.0


@pytest.mark.parametrize("args", [(0, 2), (4, 1)])
def test_fixup_scale_rejects_bad_arguments(args):
    with pytest.raises(ValueError, match="fixup_scale"):
        fixup_scale(*args)


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_he_normal_std(scale):
    w = np.asarray(he_normal(scale, seed=1)((3, 3, 64, 256)))
    assert w.std() == pytest.approx(scale * np.sqrt(2.0 / (3 * 3 * 64)), rel=0.02)


def test_zeros():
    assert not np.asarray(zeros()((3, 3, 2, 2))).any()
