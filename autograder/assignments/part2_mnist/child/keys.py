"""Names shared by part2_mnist's probes (which record evidence) and hidden checks (which read it), each spelled
once: a probe's grade id (its graded cell, and its entry in course_config.py) and the keys it records under.

The child imports this module: it stays plain dataclasses, no torch. The items of a recorded list or tuple
are keyed by autograder.sandbox.recorder.item; record_gradient's keys are probe_keys.GradientKeys'.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...probe_keys import GradientKeys, Probe


@dataclass(frozen=True)
class ComputeMeanStdKeys(Probe):
    """What probe_compute_mean_std records: the (mean, std) compute_mean_std returned for a dataset of images."""

    returned: str = "returned"


@dataclass(frozen=True)
class NormalizeKeys(Probe):
    """What probe_normalize records: normalize on one image, on a batch (per-channel mean and std), and on an
    image in [0, 1] with mean and std 0.5."""

    image: str = "image"
    batch: str = "batch"
    half: str = "half"


@dataclass(frozen=True)
class MakeTransformKeys(Probe):
    """What probe_make_transform records: the transform make_transform returned, and its outputs on PIL images."""

    transform: str = "transform"
    outputs: str = "outputs"


@dataclass(frozen=True)
class BinaryCrossEntropyKeys(GradientKeys, Probe):
    """What probe_binary_cross_entropy records: the loss on ordinary probabilities, on confidently wrong and on
    perfect predictions, then record_gradient's float64 run (GradientKeys)."""

    values: str = "values"
    extremes: str = "extremes"
    perfect: str = "perfect"


@dataclass(frozen=True)
class MnistModelKeys(Probe):
    """What probe_mnist_model records: the model MNISTModel() made, its fc1 and fc2 (type and weight shape), its
    parameter count, whether the grader loaded its weights, and its logits on batches of images and of flat
    vectors, of five and of one."""

    net: str = "net"
    layers: str = "layers"
    parameters: str = "parameters"
    loaded: str = "loaded"
    images: str = "images"
    flat: str = "flat"
    one_image: str = "one_image"
    one_flat: str = "one_flat"


@dataclass(frozen=True)
class MakeLoadersKeys(Probe):
    """What probe_make_loaders records: the loaders make_loaders returned with the default batch size, the
    training loader's order and batch sizes in two epochs, the test loader's, and the loaders of a smaller
    batch size with their test batch sizes."""

    default: str = "default"
    test_order: str = "test_order"
    test_sizes: str = "test_sizes"
    small: str = "small"
    small_test_sizes: str = "small_test_sizes"

    def train_order(self, epoch: int) -> str:
        """The training loader's (order, batch sizes) in epoch `epoch` (1 or 2)."""
        return f"train_epoch{epoch}"

    def train_sizes(self, epoch: int) -> str:
        """The training loader's batch sizes in epoch `epoch` (a note)."""
        return f"train_epoch{epoch}_sizes"


@dataclass(frozen=True)
class TrainEpochKeys(Probe):
    """What probe_train_epoch records: what train_epoch returned, and the model's parameters after the epoch."""

    returned: str = "returned"
    params: str = "params"


@dataclass(frozen=True)
class ValidateKeys(Probe):
    """What probe_validate records: validate on the plain model, then on three models whose results show eval
    mode and grad mode (inputs.validate_model, in the order of inputs.VALIDATE_CASES), and the dropout model as
    validate left it."""

    returned: str = "returned"
    params_after: str = "params_after"
    train_mask: str = "train_mask"
    grad_offset: str = "grad_offset"
    offset_bias: str = "offset_bias"
    modules_in_eval_mode: str = "modules_in_eval_mode"
    mask_params_after: str = "mask_params_after"
    output_after: str = "output_after"

    def results(self) -> tuple[str, str, str, str]:
        """The keys of validate's results on the lent models, in the order of inputs.VALIDATE_CASES."""
        return self.returned, self.train_mask, self.grad_offset, self.offset_bias


@dataclass(frozen=True)
class TrainingLoopKeys(Probe):
    """What probe_training_loop records: what training_loop returned with the grader's stand-ins, and the order
    in which it called them."""

    returned: str = "returned"
    calls: str = "calls"


@dataclass(frozen=True)
class ShiftPixelsKeys(Probe):
    """What probe_shift_pixels records: shift_pixels on one image, on a batch, and with its default shift."""

    image: str = "image"
    batch: str = "batch"
    default: str = "default"


@dataclass(frozen=True)
class MnistAccuracyKeys(Probe):
    """What probe_mnist_accuracy records: the model MNISTModel() made, what train_epoch returned in each epoch,
    and the trained weights of fc1 and fc2."""

    net: str = "net"

    def epoch(self, n: int) -> str:
        """What train_epoch returned in epoch n (counted from 0)."""
        return f"epoch{n}"

    def trained(self, parameter: str) -> str:
        """The trained value of the model's parameter `parameter` ("fc1.weight"), recorded under that name."""
        return parameter


COMPUTE_MEAN_STD = ComputeMeanStdKeys("test_compute_mean_std")
NORMALIZE = NormalizeKeys("test_normalize")
MAKE_TRANSFORM = MakeTransformKeys("test_make_transform")
BINARY_CROSS_ENTROPY = BinaryCrossEntropyKeys("test_binary_cross_entropy")
MNIST_MODEL = MnistModelKeys("test_mnist_model")
MAKE_LOADERS = MakeLoadersKeys("test_make_loaders")
TRAIN_EPOCH = TrainEpochKeys("test_train_epoch")
VALIDATE = ValidateKeys("test_validate")
TRAINING_LOOP = TrainingLoopKeys("test_training_loop")
SHIFT_PIXELS = ShiftPixelsKeys("test_shift_pixels")
MNIST_ACCURACY = MnistAccuracyKeys("test_mnist_accuracy")
