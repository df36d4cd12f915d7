"""recipes/paper/reference.py against the paper's own text (its tables and the sentences it quotes,
committed in tests/fixtures/paper/): every cell of Tables 1-5, and every claim quoted verbatim."""

import re

import pytest

from recipes.paper import reference
from tests.conftest import REPO

EXCERPT = REPO / "tests" / "fixtures" / "paper" / "tables_and_claims.txt"


@pytest.fixture(scope="module")
def paper():
    return EXCERPT.read_text()


def _rows_after(text, header, count):
    """The ``count`` tab-separated rows that follow the line starting with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = [line.split("\t") for line in lines[start + 1:] if line.strip()]
    return rows[:count]


def _exponents(cell):
    """'$2^{-1} (2^{-2} - 2^0)$' -> [-1, -2, 0]."""
    return [int(e) for e in re.findall(r"2\^\{?(-?\d+)\}?", cell)]


def test_table_1_every_cell(paper):
    rows = _rows_after(paper, "Method\tOptimal test accuracy (%)\tOptimal training loss", 6)
    assert [r[0] for r in rows] == [row.method for row in reference.TABLE_1.values()]
    for cells, row in zip(rows, reference.TABLE_1.values()):
        assert (cells[1], cells[2]) == (str(row.test_accuracy), str(row.train_loss))
    # spot checks of the parsed numbers, as the tables use them
    assert reference.TABLE_1["scalar_multiplier"].train_loss.mean == 0.181
    assert (reference.TABLE_1["none"].test_accuracy.mean, reference.TABLE_1["none"].test_accuracy.std) == (92.3, 0.3)


@pytest.mark.parametrize("header, table, keys", [
    ("Depth\tBatch Normalization\t\tZeroInit", reference.TABLE_2, ("batch_norm", "zeroinit")),
    ("Depth\tZeroInit without L2\t\tScalar Multiplier", reference.TABLE_3, ("zeroinit_no_l2", "scalar_multiplier")),
])
def test_tables_2_3_every_cell(paper, header, table, keys):
    rows = _rows_after(paper, header, 4)[1:]  # skip the "Test accuracy (%) / Optimal learning rate" line
    assert [int(r[0]) for r in rows] == [16, 100, 1000]
    assert len(table) == 6
    for cells in rows:
        depth = int(cells[0])
        for key, (accuracy, lr) in zip(keys, ((cells[1], cells[2]), (cells[3], cells[4]))):
            row = table[(key, depth)]
            assert str(row.test_accuracy) == accuracy.strip()
            exponents = _exponents(lr)
            assert [row.lr.exponent, *(row.lr.range or ())] == exponents


def test_values_without_std_and_learning_rate_ranges(paper):
    no_l2 = reference.TABLE_3[("zeroinit_no_l2", 16)]
    assert (no_l2.test_accuracy.mean, no_l2.test_accuracy.std) == (91.0, None)
    assert str(reference.TABLE_2[("batch_norm", 1000)].lr) == "2^-2 (2^-3 – 2^0)"
    assert "94.3 ± 0.2" in paper and str(reference.TABLE_2[("zeroinit", 1000)].test_accuracy) == "94.3 ± 0.2"


def test_claims_are_verbatim_and_saturation_values_match(paper):
    flat = " ".join(paper.split()).lower()
    claims = [*reference.TABLE_1_CLAIMS, *reference.TABLES_2_3_CLAIMS, *reference.FIGURES_1_2, *reference.FIGURES_3_4,
              *reference.TABLES_4_5_CLAIMS]
    for claim in claims:
        assert " ".join(claim.text.split()).lower() in flat, claim.key
    assert len({(c.key, c.source) for c in claims}) == len(claims)
    saturation = re.search(r"saturates at a maximum value of 2\^\{(-?\d+)\} without batch normalization, it reaches a "
                           r"larger value of 2\^(-?\d+) with ZeroInit, and an even larger value of 2\^(-?\d+)", paper)
    assert tuple(map(int, saturation.groups())) == tuple(reference.SATURATED_LR_EXPONENT[k] for k in
                                                         ("none", "zeroinit", "ghost_batch_norm"))


@pytest.mark.parametrize("header, table", [
    ("Batch Size\tBatch Normalization\tFixup\tZeroInit without Dropout\tZeroInit", reference.TABLE_4),
    ("Batch Size\tBatch Normalization\tFixup\tZeroInit\tZeroInit + Scalar Bias", reference.TABLE_5),
])
def test_tables_4_5_every_cell(paper, header, table):
    methods = header.split("\t")[1:]
    rows = _rows_after(paper, header, 3)
    assert [int(r[0]) for r in rows] == [256, 1024, 4096] and len(table) == 12
    for cells in rows:
        for method, cell in zip(methods, cells[1:]):
            (key,) = [k for (k, b) in table if b == int(cells[0]) and table[k, b].method == method]
            assert str(table[key, int(cells[0])]) == cell.strip()
    assert reference.TABLE_5[("v1_zeroinit", 1024)].top5 == 87.82


def test_section_5_protocol(paper):
    assert "hold the learning rate constant for 45 epochs before decaying the learning rate by a factor of 2 every 5" \
        in paper and "We train for 90 epochs" in paper and "We use a ghost batch size of 256" in paper
    assert reference.SECTION_5 == dict(epochs=90, hold_epochs=45, decay_every=5, ghost_batch_size=256, schedule="paper")
