"""The published numbers of "Batch normalization has multiple benefits", transcribed as data for the
reproduction tables.

Tables 1-3 (CIFAR-10, 200 epochs, mean ± std of the best 12 of 15 runs) cell by cell; the
figures (1-4) give no numbers in the text, so they are kept as the claims the text makes about
them, with the few values it states (the saturated optimal learning rates of section 3).
``tests/recipes/paper/test_reference.py`` checks every number here against the seed text.
"""

import dataclasses

from tfzoo.training.config import IMAGENET_PROTOCOL


@dataclasses.dataclass(frozen=True)
class Value:
    """A published cell exactly as printed: "92.3 ± 0.3", or "91.0" where the paper prints no std."""

    text: str

    @property
    def mean(self):
        return float(self.text.split("±")[0])

    @property
    def std(self):
        return float(self.text.split("±")[1]) if "±" in self.text else None

    def __str__(self):
        return self.text


@dataclasses.dataclass(frozen=True)
class LearningRate:
    """A published optimal learning rate 2^exponent, with the range 2^a - 2^b printed beside it."""

    exponent: int
    range: tuple | None = None

    def __str__(self):
        text = f"2^{self.exponent}"
        return text if self.range is None else f"{text} (2^{self.range[0]} – 2^{self.range[1]})"


@dataclasses.dataclass(frozen=True)
class Row:
    """One published cell group: test accuracy in %, training loss, optimal learning rate."""

    method: str
    test_accuracy: Value
    train_loss: Value | None = None
    lr: LearningRate | None = None


# Table 1: WRN-16-4 without normalization, batch 64; separate optima for accuracy and loss.
# Keyed by the condition names of recipes/paper/ablation.py.
TABLE_1 = {
    "none": Row("16-4 wide ResNet w/o batch normalization", Value("92.3 ± 0.3"), Value("0.212 ± 0.004")),
    "biases": Row("+ biases", Value("91.9 ± 0.2"), Value("0.205 ± 0.003")),
    "dropout": Row("+ dropout", Value("93.2 ± 0.1"), Value("0.226 ± 0.001")),
    "scalar_multiplier": Row("+ scalar multiplier", Value("94.0 ± 0.1"), Value("0.181 ± 0.001")),
    "biases_dropout": Row("+ biases & dropout", Value("93.6 ± 0.1"), Value("0.212 ± 0.001")),
    "zeroinit": Row("+ ZeroInit (scalar multiplier, biases & dropout)", Value("94.4 ± 0.1"), Value("0.189 ± 0.001")),
}

# Table 2: WRN-d-2, batch 64: batch normalization and ZeroInit; test accuracy and its optimal lr.
TABLE_2 = {
    ("batch_norm", 16): Row("Batch Normalization", Value("93.5 ± 0.1"), lr=LearningRate(-1)),
    ("batch_norm", 100): Row("Batch Normalization", Value("94.7 ± 0.1"), lr=LearningRate(-1, (-2, 0))),
    ("batch_norm", 1000): Row("Batch Normalization", Value("94.6 ± 0.1"), lr=LearningRate(-2, (-3, 0))),
    ("zeroinit", 16): Row("ZeroInit", Value("93.3 ± 0.1"), lr=LearningRate(-2)),
    ("zeroinit", 100): Row("ZeroInit", Value("94.2 ± 0.1"), lr=LearningRate(-2)),
    ("zeroinit", 1000): Row("ZeroInit", Value("94.3 ± 0.2"), lr=LearningRate(-2, (-3, -1))),
}

# Table 3: WRN-d-2, batch 64: ZeroInit without L2, and the scalar multiplier alone (SkipInit).
TABLE_3 = {
    ("zeroinit_no_l2", 16): Row("ZeroInit without L2", Value("91.0"), lr=LearningRate(-3)),
    ("zeroinit_no_l2", 100): Row("ZeroInit without L2", Value("92.2 ± 0.1"), lr=LearningRate(-3)),
    ("zeroinit_no_l2", 1000): Row("ZeroInit without L2", Value("92.5 ± 0.2"), lr=LearningRate(-3)),
    ("scalar_multiplier", 16): Row("Scalar Multiplier", Value("93.1 ± 0.1"), lr=LearningRate(-2, (-3, -2))),
    ("scalar_multiplier", 100): Row("Scalar Multiplier", Value("94.1 ± 0.1"), lr=LearningRate(-2, (-3, -2))),
    ("scalar_multiplier", 1000): Row("Scalar Multiplier", Value("94.2 ± 0.1"), lr=LearningRate(-1, (-2, -1))),
}

# Tables 4-5 (section 5): ResNet-50 on ImageNet, 90 epochs, one run per learning rate, the optimum of
# top-1 validation accuracy; cells "top-1 / top-5" (%) as printed, keyed by (condition of
# recipes/paper/imagenet.py, batch size).
@dataclasses.dataclass(frozen=True)
class ImageNetCell:
    method: str
    text: str  # "74.97 / 92.20"

    @property
    def top1(self):
        return float(self.text.split(" / ")[0])

    @property
    def top5(self):
        return float(self.text.split(" / ")[1])

    def __str__(self):
        return self.text


def _imagenet_table(rows):
    return {(key, batch): ImageNetCell(method, cell)
            for key, method, cells in rows for batch, cell in zip((256, 1024, 4096), cells)}


TABLE_4 = _imagenet_table((  # ResNet-50-V2
    ("v2_batch_norm", "Batch Normalization", ("74.97 / 92.20", "74.93 / 92.13", "74.88 / 91.93")),
    ("v2_fixup", "Fixup", ("74.81 / 91.84", "74.60 / 91.69", "73.02 / 90.59")),
    ("v2_zeroinit_no_dropout", "ZeroInit without Dropout", ("74.93 / 91.89", "74.61 / 91.81", "70.76 / 89.15")),
    ("v2_zeroinit", "ZeroInit", ("75.56 / 92.35", "75.46 / 92.53", "72.65 / 90.70")),
))
TABLE_5 = _imagenet_table((  # ResNet-50-V1
    ("v1_batch_norm", "Batch Normalization", ("75.57 / 92.48", "75.32 / 92.37", "75.37 / 92.38")),
    ("v1_fixup", "Fixup", ("74.41 / 91.65", "74.43 / 91.74", "72.37 / 90.28")),
    ("v1_zeroinit", "ZeroInit", ("70.05 / 89.16", "68.40 / 87.82", "68.19 / 87.92")),
    ("v1_zeroinit_scalar_bias", "ZeroInit + Scalar Bias", ("75.23 / 92.37", "74.94 / 91.99", "70.82 / 89.60")),
))

# Section 5's protocol (tfzoo's, which recipes.imagenet_resnet uses): 90 epochs, the learning rate
# constant for 45 epochs then halved every 5, ghost batch 256; ZeroInit's classifier dropout 0.2 (Tables 4-5).
SECTION_5 = IMAGENET_PROTOCOL

# Section 3 (Figure 2a): where the optimal learning rate saturates at large batch sizes.
SATURATED_LR_EXPONENT = {"none": -3, "zeroinit": 1, "ghost_batch_norm": 4}


@dataclasses.dataclass(frozen=True)
class Claim:
    """A sentence of the paper (verbatim) about a table or figure; ``key`` names the check that the
    experiment computes for it."""

    key: str
    source: str
    text: str


FIGURES_1_2 = (
    Claim("bn_best_test", "Figure 1a, section 3",
          "the optimal test accuracy is substantially higher with batch normalization than without"),
    Claim("zeroinit_beats_none", "Figure 1a, section 3",
          "ZeroInit significantly improves the optimal test accuracy achieved without normalization"),
    Claim("bn_best_loss", "Figure 1b, section 3", "batch normalization achieves lower optimal training losses at all batch sizes"),
    Claim("lr_proportional", "Figure 2a, section 3",
          "for all three techniques, the optimal learning rate is initially proportional to the batch size"),
    Claim("lr_saturation", "Figure 2a, section 3",
          "the optimal learning rate saturates at a maximum value of 2^{-3} without batch normalization, it reaches a "
          "larger value of 2^1 with ZeroInit, and an even larger value of 2^4 with batch normalization"),
)

FIGURES_3_4 = (
    Claim("bn_best_loss", "Figure 3, section 4", "Batch normalization outperforms ZeroInit on the training loss"),
    Claim("bn_drops_small_batch", "Figure 3, section 4",
          "it underperforms ZeroInit on the test set when the batch size is very small"),
    Claim("zeroinit_flat", "Figure 3, section 4",
          "the final performance of ZeroInit is independent of the batch size in the small batch limit"),
    Claim("lr_proportional", "Figure 4a, appendix A",
          "the learning rate which maximizes the test accuracy is proportional to the batch size when the batch "
          "size is small, and all three methods exhibit similar learning rates at the same batch size"),
)

TABLE_1_CLAIMS = (
    Claim("multiplier_beats_none", "Table 1, section 4",
          "solely introducing a scalar multiplier initialized to zero is sufficient to train our 16-4 wide residual "
          "network to 94% test accuracy"),
    Claim("multiplier_lowest_loss", "Table 1, section 4", "This configuration also achieves the lowest training loss."),
    Claim("zeroinit_tradeoff", "Table 1",
          "ZeroInit, which combines this scalar multiplier with biases and dropout, improves the optimal test accuracy "
          "but also increases the training loss"),
)

TABLES_2_3_CLAIMS = (
    Claim("deep_trains", "Table 2", "Both batch normalization and ZeroInit are able to train very deep networks"),
    Claim("lr_weakly_depth", "Table 2", "The optimal learning rate is only weakly dependent on depth"),
    Claim("no_l2_trains", "Table 3", "L2 regularization is not required to train very deep networks with ZeroInit"),
    Claim("multiplier_trains", "Table 3",
          "we can also train very deep networks without biases or dropout, using solely a scalar multiplier"),
    Claim("standard_fails", "section 4 (premise; no table)",
          "We now identify the minimal components required to train very deep ResNets without normalization"),
)

TABLES_4_5_CLAIMS = (
    Claim("v2_competitive_small", "Table 4, section 5",
          "Both Fixup and ZeroInit are competitive with batch normalization at small batch sizes"),
    Claim("v2_bn_better_large", "Table 4, section 5", "batch normalization is better at larger batch sizes"),
    Claim("v1_fixup_large", "Table 5, section 5",
          "Fixup performs well when the batch size is small, but significantly underperforms batch normalization "
          "when the batch size is large"),
    Claim("v1_scalar_bias", "Table 5, section 5",
          "ZeroInit performs poorly at all batch sizes, but its performance improves considerably if we add a scalar "
          "bias before the final ReLU in each residual block"),
)
