"""Names shared by part1_regression's probes (which record evidence) and hidden checks (which read it), each spelled
once: a probe's grade id (its graded cell, and its entry in course_config.py) and the keys it records under."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """A probe of one graded cell."""

    grade_id: str


PREDICT_CLASSES = Probe("test_predict_classes")
MODEL = Probe("test_model")
LOSS_FN = Probe("test_loss_fn")
TRAINING_LOOP = Probe("test_training_loop")
TRAINING_LOOP_ADAM = Probe("test_training_loop_adam")
TRAINING_LOOP_MODULE = Probe("test_training_loop_module")
MAKE_DNN = Probe("test_make_dnn")
NEURAL_NETWORK = Probe("test_neural_network")
