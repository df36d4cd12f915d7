"""Regenerate the model cards in docs/pretrained.md and README.md's pretrained table from the registry.

    python -m export.model_cards          # rewrites the generated parts of docs/pretrained.md and README.md

Prints whether the file changed. The cards are ``tfzoo.pretrained.cards.model_card`` of each entry of
``tfzoo/pretrained/zoo.py``; a test fails while docs/pretrained.md disagrees with the registry.
"""

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("cards", "docs/pretrained.md", "The Markdown file whose model cards are rewritten.")
flags.DEFINE_string("readme", "README.md", "The Markdown file whose pretrained table is rewritten.")


def main(argv):
    from tfzoo.pretrained.cards import update_cards, update_readme_table

    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    for path, update in ((FLAGS.cards, update_cards), (FLAGS.readme, update_readme_table)):
        try:
            changed = update(path)
        except OSError as error:
            cli.fail(f"cannot rewrite {path}: {error}", cli.EXIT_FAILED)
        print(f"{path}: {'updated' if changed else 'already up to date'}")


if __name__ == "__main__":
    cli.run(main)
