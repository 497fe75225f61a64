"""Names shared by part1_regression's probes (which record evidence) and hidden checks (which read it), each spelled
once: a probe's grade id (its graded cell, and its entry in course_config.py) and the keys it records under.

The child imports this module: it stays plain dataclasses, no torch. The items of a recorded list or tuple
are keyed by autograder.sandbox.recorder.item; record_gradient's keys are probe_keys.GradientKeys'.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...probe_keys import GradientKeys, Probe


@dataclass(frozen=True)
class PredictClassesKeys(Probe):
    """What probe_predict_classes records: predict_classes on three score tensors, each under the name of its
    input in inputs.py (the checks look the input up by the key)."""

    scores: str = "scores"
    scores_one: str = "scores_one"
    scores_wide: str = "scores_wide"

    def each(self) -> tuple[str, str, str]:
        """Every call's key, in the order the probe makes the calls."""
        return self.scores, self.scores_one, self.scores_wide


@dataclass(frozen=True)
class ModelKeys(Probe):
    """What probe_model records: model(x, w, b) on a vector x and on a matrix x."""

    vector: str = "vector"
    matrix: str = "matrix"


@dataclass(frozen=True)
class LossFnKeys(GradientKeys, Probe):
    """What probe_loss_fn records: loss_fn on float32 predictions, then record_gradient's float64 run (GradientKeys)."""

    value: str = "value"


@dataclass(frozen=True)
class LineLoopKeys(Probe):
    """What the probes of training_loop and training_loop_adam record: for each trajectory length n, what the loop
    returned, the params tensor passed in as it was afterwards, and whether the loop returned that very tensor;
    then the same for one longer run on a noisy line (the "decrease" run)."""

    decrease_returned: str = "decrease/returned"
    decrease_params: str = "decrease/params"

    def returned(self, n: int) -> str:
        """What the loop returned after n epochs."""
        return f"epochs{n}/returned"

    def params(self, n: int) -> str:
        """The params tensor passed in, after n epochs."""
        return f"epochs{n}/params"

    def returned_is_params(self, n: int) -> str:
        """Whether the loop returned the very tensor passed in (a note)."""
        return f"epochs{n}/returned_is_params"


@dataclass(frozen=True)
class ModuleLoopKeys(Probe):
    """What probe_training_loop_module records: for each number of epochs n, what the loop returned, whether that
    is the module passed in, and the module's parameters afterwards (one flat tensor)."""

    def returned(self, n: int) -> str:
        """What the loop returned after n epochs."""
        return f"epochs{n}/returned"

    def returned_is_model(self, n: int) -> str:
        """Whether the loop returned the very module passed in (a note)."""
        return f"epochs{n}/returned_is_model"

    def params(self, n: int) -> str:
        """The module's parameters after n epochs, flattened into one tensor."""
        return f"epochs{n}/params"


@dataclass(frozen=True)
class MakeDnnKeys(Probe):
    """What probe_make_dnn records: the network make_dnn() returned, its layers' types and parameter shapes, and
    its forward pass with the grader's weights (only when the shapes let the grader load them)."""

    net: str = "net"
    layers: str = "layers"
    param_shapes: str = "param_shapes"
    forward: str = "forward"


@dataclass(frozen=True)
class NeuralNetworkKeys(Probe):
    """What probe_neural_network records: the module NeuralNetwork() made, its fc1, fc2, out and relu attributes
    (type and weight shape), and its forward pass with the grader's weights (only when they fit)."""

    net: str = "net"
    attributes: str = "attributes"
    forward: str = "forward"


PREDICT_CLASSES = PredictClassesKeys("test_predict_classes")
MODEL = ModelKeys("test_model")
LOSS_FN = LossFnKeys("test_loss_fn")
TRAINING_LOOP = LineLoopKeys("test_training_loop")
TRAINING_LOOP_ADAM = LineLoopKeys("test_training_loop_adam")
TRAINING_LOOP_MODULE = ModuleLoopKeys("test_training_loop_module")
MAKE_DNN = MakeDnnKeys("test_make_dnn")
NEURAL_NETWORK = NeuralNetworkKeys("test_neural_network")
