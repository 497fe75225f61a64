"""Names shared by part2_mnist's probes (which record evidence) and hidden checks (which read it), each spelled
once: a probe's grade id (its graded cell, and its entry in course_config.py) and the keys it records under."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """A probe of one graded cell."""

    grade_id: str


@dataclass(frozen=True)
class ValidateKeys(Probe):
    """What probe_validate records: validate on the plain model, then on three models whose results show eval
    mode and grad mode (inputs.probe_mlp), and the dropout model as validate left it."""

    returned: str = "returned"
    params_after: str = "params_after"
    train_mask: str = "train_mask"
    grad_offset: str = "grad_offset"
    offset_bias: str = "offset_bias"
    modules_in_eval_mode: str = "modules_in_eval_mode"
    mask_params_after: str = "mask_params_after"
    output_after: str = "output_after"


COMPUTE_MEAN_STD = Probe("test_compute_mean_std")
NORMALIZE = Probe("test_normalize")
MAKE_TRANSFORM = Probe("test_make_transform")
BINARY_CROSS_ENTROPY = Probe("test_binary_cross_entropy")
MNIST_MODEL = Probe("test_mnist_model")
MAKE_LOADERS = Probe("test_make_loaders")
TRAIN_EPOCH = Probe("test_train_epoch")
VALIDATE = ValidateKeys("test_validate")
TRAINING_LOOP = Probe("test_training_loop")
SHIFT_PIXELS = Probe("test_shift_pixels")
MNIST_ACCURACY = Probe("test_mnist_accuracy")
