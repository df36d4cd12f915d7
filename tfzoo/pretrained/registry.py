"""The pretrained registry: one frozen entry per shipped preset, with its model card (STYLE.md 10)."""

import dataclasses

PACKAGE_PREFIX = "package:"
PAPER = ('"Batch normalization has multiple benefits: an empirical study on residual networks" '
         '(Soham De and Samuel L. Smith, ICLR 2020 submission)')


class PretrainedError(ValueError):
    """An unknown name, or an archive whose bytes do not match the registry's sha256."""


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
    """One pretrained preset (``tfzoo/pretrained/presets.py``), where it lies, and what it scores and how it was
    made: the card that docs/pretrained.md renders and the preset's metadata.json repeats."""

    name: str
    source: str  # "package:<file in tfzoo/pretrained_models>" or "https://..."
    sha256: str
    size: int  # bytes of the archive
    dataset: str
    model: str
    normalization: str
    init: str
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    test_accuracy: float  # the preset's accuracy on its test split, re-measured by a test
    test_examples: int
    epochs: int
    training_seconds: float
    machine: str
    command: str
    precision: str = "fp32"  # what it was trained in (tfzoo.precision)
    test_split: str = "the official test split"  # what test_accuracy was measured on, as the card names it
    license: str = "Apache-2.0"
    paper: str = PAPER
    lr_selection: str = ""  # how the learning rate was chosen (on a validation split, never the test set)
    # accuracies measured once on other test images: (what they are, accuracy, number of images), e.g. a model
    # trained on CIFAR-10 as JPEG files measured on official-pixel CIFAR-10 test images
    other_results: tuple[tuple[str, float, int], ...] = ()
    data_preparation: str = ""  # the shell commands that put the data where ``command`` reads it, run first

    @property
    def num_classes(self):
        return len(self.class_names)

    def card(self):
        """The entry's card as JSON data: every field but where the archive lies (what metadata.json holds)."""
        card = dataclasses.asdict(self)
        for key in ("name", "source", "sha256", "size"):
            card.pop(key)
        for key in ("other_results", "data_preparation"):  # added later: absent from cards that have none
            if not card[key]:
                card.pop(key)
        return card


REGISTRY = {}


def register(entry):
    """Adds ``entry`` to the registry (names are unique)."""
    if entry.name in REGISTRY:
        raise PretrainedError(f"pretrained model {entry.name!r} is already registered")
    if not (entry.source.startswith(PACKAGE_PREFIX) or entry.source.startswith("https://")):
        raise PretrainedError(f"source must be 'package:FILE' or an https:// URL. Received: {entry.source!r}")
    REGISTRY[entry.name] = entry
    return entry


def names():
    """Names of the registered pretrained models, sorted."""
    return sorted(REGISTRY)


def info(name):
    """The ``PretrainedModel`` entry called ``name``."""
    if name not in REGISTRY:
        raise PretrainedError(f"unknown pretrained model {name!r}; accepted: {', '.join(names())}, or a preset folder")
    return REGISTRY[name]
