"""Regenerate the model cards in docs/pretrained.md from the pretrained registry.

    python -m export.model_cards                       # rewrites docs/pretrained.md's generated part
    python -m export.model_cards --output=OTHER.md     # or another file

Prints whether the file changed. The cards are ``tfzoo.model_cards.model_card`` of each entry of
``tfzoo/pretrained.py``; a test fails while docs/pretrained.md disagrees with the registry.
"""

from absl import flags

from tfzoo import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("output", "docs/pretrained.md", "The Markdown file whose generated part is rewritten.")


def main(argv):
    from tfzoo.model_cards import update_cards

    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    try:
        changed = update_cards(FLAGS.output)
    except OSError as error:
        cli.fail(f"cannot write --output={FLAGS.output}: {error}", cli.EXIT_FAILED)
    print(f"{FLAGS.output}: {'updated' if changed else 'already up to date'}")


if __name__ == "__main__":
    cli.run(main)
