"""Model cards: docs/pretrained.md shows exactly what the registry says, and update_cards
rewrites only its generated part."""

import dataclasses

from tests.conftest import REPO
from tfzoo import pretrained
from tfzoo.pretrained import cards as model_cards


def _entries():
    return [pretrained.info(name) for name in pretrained.names()]


def test_docs_and_readme_hold_the_registry_cards_and_table():
    text = (REPO / "docs" / "pretrained.md").read_text()
    assert model_cards.cards_markdown(_entries()) in text, "stale model cards: run python -m export.model_cards"
    readme = (REPO / "README.md").read_text()
    assert model_cards.readme_table(_entries()) in readme, "stale README table: run python -m export.model_cards"


def test_a_card_says_what_the_entry_says():
    entry = dataclasses.replace(_entries()[0], epochs=30, training_seconds=3000.0, precision="bf16",
                                lr_selection="2^-3: best validation accuracy of a 5-rate search",
                                other_results=(("the official pixels", 0.9012, 1017),),
                                data_preparation="unzip -q data.zip")
    card = model_cards.model_card(entry)
    assert "also measured" not in model_cards.model_card(_entries()[0])
    for text in (entry.name, f"{100 * entry.test_accuracy:.2f} %", "30 epochs, bf16, 3,000 s (100 s per epoch)",
                 entry.sha256, entry.license, "2^-3: best validation accuracy", f'create_model(pretrained="{entry.name}")',
                 "the official test split", f"{entry.size:,} bytes",
                 "--output_dir=runs/zoo/bn", "| also measured | 90.12 % on the official pixels (1,017 images, measured once) |",
                 "```bash\nunzip -q data.zip\npython -m recipes.cifar_wrn"):
        assert text in card, text


def test_update_rewrites_only_the_generated_part(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nintro\n")
    assert model_cards.update_cards(page, _entries()[:1]) is True
    first = page.read_text()
    assert first.startswith("# Title\n\nintro\n") and first.count(model_cards.START) == 1
    page.write_text(first + "\n## After\n")
    assert model_cards.update_cards(page, _entries()) is True
    text = page.read_text()
    assert text.endswith("## After\n") and _entries()[1].name in text and text.count(model_cards.END) == 1
    assert model_cards.update_cards(page, _entries()) is False
