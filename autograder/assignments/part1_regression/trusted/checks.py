"""Hidden checks of part1_regression. Each test is one check of course_config.py."""
from __future__ import annotations

import pytest
import torch

from autograder.assignments.part1_regression.child import keys
from autograder.assignments.part1_regression.child.inputs import (
    ADAM_TRAJECTORY_EPOCHS,
    DECREASE_EPOCHS,
    DNN_SHAPES,
    MODULE_DECREASE_EPOCHS,
    TRAJECTORY_EPOCHS,
    mse_with_flat_value,
    probe_module,
    standin_line_loss,
    standin_loss,
    standin_model,
)
from autograder.assignments.probing import GRADIENT, lent
from autograder.expect import expect, expect_close, expect_equal, expect_gradient, expect_shape
from solutions import part1_regression as ref

# A few float32 ulps: the same arithmetic written differently (w * x + b, torch.add(...)) may
# round differently in the last bit, never more.
ELEMENTWISE = dict(rtol=1e-5, atol=1e-6)
# Sums of up to 40 float32 terms in another order: relative error below 40 * 6e-8 = 2.4e-6.
REDUCTION = dict(rtol=1e-5, atol=1e-6)
# Float64 gradients of the same formula differ only by rounding (~1e-15); 1e-7 also admits a
# student who computes in float32 internally and returns float64.
GRADIENT64 = dict(rtol=1e-6, atol=1e-7)
# Gradient descent is contractive on a least-squares line: rounding differences (1e-7) do not
# grow over 20 epochs. A missing zero_grad, a wrong sign or learning rate is off by >= 1e-2.
TRAJECTORY = dict(rtol=1e-4, atol=1e-5)
# Adam normalizes each step, so rounding differences stay near 1e-6. The trajectories use a
# loss with a constant value (mse_with_flat_value), so ReduceLROnPlateau cuts the rate at
# fixed epochs and no rounding can flip its decision; a missing scheduler or a scheduler
# stepped before the optimizer moves the parameters by more than 0.04 by epoch 40 (seeds 0-5).
ADAM_TRAJECTORY = dict(rtol=1e-3, atol=1e-3)
# The loss must fall to at most half its starting value within the budget; the reference
# falls by more than 90% on every seed (tests/test_inputs.py pins this).
DECREASE_FACTOR = 0.5
# Checks of structure (types, shapes, identities, layers) pass on what any code can return; each
# earns its points only together with a value check of the same call (`requires`, see autograder.suite.gated).
requires = pytest.mark.requires


# predict_classes

@requires("predict_classes_values")
def test_predict_classes_shape_and_dtype(evidence, inputs):
    probe = evidence.probe(keys.PREDICT_CLASSES.grade_id)
    for key in keys.PREDICT_CLASSES.each():
        n = inputs[key].shape[0]
        what = f"predict_classes on scores of shape {tuple(inputs[key].shape)}"
        out = probe.tensor(key, what)
        expect_shape(out, (n,), what)
        expect(not out.dtype.is_floating_point, f"{what}: expected integer class indices, got dtype {out.dtype}")


def test_predict_classes_values(evidence, inputs):
    probe = evidence.probe(keys.PREDICT_CLASSES.grade_id)
    for key in keys.PREDICT_CLASSES.each():
        what = f"predict_classes on scores of shape {tuple(inputs[key].shape)}"
        out = probe.tensor(key, what)
        expect_equal(out.flatten().long(), ref.predict_classes(inputs[key]), what)


# model

def test_model_values(evidence, inputs):
    out = evidence.probe(keys.MODEL.grade_id).tensor(keys.MODEL.vector, "model(x, w, b) on x of shape (9,)")
    expected = ref.model(inputs["model_x"], inputs["model_w"], inputs["model_b"])
    expect_close(out, expected, "model(x, w, b) on x of shape (9,)", **ELEMENTWISE)


def test_model_broadcasts_over_x(evidence, inputs):
    what = "model(x, w, b) on x of shape (3, 4)"
    out = evidence.probe(keys.MODEL.grade_id).tensor(keys.MODEL.matrix, what)
    expect_close(out, ref.model(inputs["model_x2d"], inputs["model_w"], inputs["model_b"]), what, **ELEMENTWISE)


# loss_fn

def test_loss_fn_value(evidence, inputs):
    what = "loss_fn on 20 predictions"
    out = evidence.probe(keys.LOSS_FN.grade_id).tensor(keys.LOSS_FN.value, what)
    expected = ref.loss_fn(inputs["loss_pred"], inputs["loss_true"])
    expect_close(out.reshape(()) if out.numel() == 1 else out, expected, what, **REDUCTION)


@requires("loss_fn_value", "loss_fn_gradient")
def test_loss_fn_is_scalar(evidence):
    probe = evidence.probe(keys.LOSS_FN.grade_id)
    info = probe.info(keys.LOSS_FN.value, "loss_fn")
    expect(info.get("kind") == "tensor", f"loss_fn: expected a tensor, got {info.get('type') or info.get('kind')}")
    expect(info["shape"] == [], f"loss_fn: expected a 0-dim tensor (shape ()), got shape {tuple(info['shape'])}")
    info64 = probe.info(GRADIENT.loss64, "loss_fn on float64 predictions that require grad")
    expect(info64.get("has_grad_fn", False),
           "loss_fn: the loss of predictions that require grad must be differentiable (it has no grad_fn)")


def test_loss_fn_gradient(evidence, inputs):
    expect_gradient(evidence.probe(keys.LOSS_FN.grade_id), "gradient of loss_fn with respect to the predictions",
                    ref.loss_fn, inputs["loss_pred64"], inputs["loss_true64"], **GRADIENT64)


# training_loop (plain gradient descent)

def _reference_run(quiet, fn, loss_fn, n: int, lr: float, inputs: dict) -> torch.Tensor:
    """The reference training loop `fn` from the grader's start, with the stand-ins the probe lent."""
    params = inputs["line_init"].clone().requires_grad_()
    with lent(vars(ref), model=standin_model(inputs), loss_fn=loss_fn):
        return quiet(fn, n, lr, params, inputs["line_x"], inputs["line_y"]).detach()


def _check_trajectory(evidence, quiet, inputs, k: keys.LineLoopKeys, fn, loss_fn, epochs, lr_key, name, tol):
    probe = evidence.probe(k.grade_id)
    lr = float(inputs[lr_key])
    for n in epochs:
        what = f"{name}({n}, {lr:.4g}, params, x, y): returned params"
        out = probe.tensor(k.returned(n), what)
        expect_close(out.flatten(), _reference_run(quiet, fn, loss_fn, n, lr, inputs), what, **tol)


def _check_same_params(evidence, inputs, quiet, k: keys.LineLoopKeys, fn, loss_fn, epochs, lr_key, name, tol):
    probe = evidence.probe(k.grade_id)
    lr = float(inputs[lr_key])
    for n in epochs:
        what = f"{name}({n}, ...)"
        probe.info(k.returned(n), what)
        expect(probe.note(k.returned_is_params(n)) is True,
               f"{what}: must return the params tensor it was given, not a new tensor")
        info = probe.info(k.params(n), what)
        expect(info.get("requires_grad") and not info.get("has_grad_fn"),
               f"{what}: params must stay a leaf tensor with requires_grad=True "
               f"(requires_grad={info.get('requires_grad')}, leaf={not info.get('has_grad_fn')})")
        values = probe.tensor(k.params(n), what).flatten()
        if values.shape == inputs["line_init"].shape and not torch.equal(values, inputs["line_init"]):
            continue  # the update reached the caller's tensor; whether its values are right is the trajectory's check
        expect_close(values, _reference_run(quiet, fn, loss_fn, n, lr, inputs),
                     f"{what}: the values of the tensor passed in as params (never updated in place)", **tol)


def _check_decrease(evidence, inputs, k: keys.LineLoopKeys, name, epochs):
    probe = evidence.probe(k.grade_id)
    what = f"{name} for {epochs} epochs on a noisy line"
    probe.info(k.decrease_returned, what)
    out = probe.tensor(k.decrease_params, what).flatten()
    expect_shape(out, (2,), what)
    start, end = standin_line_loss(inputs["line_init"], inputs), standin_line_loss(out, inputs)
    expect(end == end and end <= DECREASE_FACTOR * start,
           f"{what}: expected the loss to fall from {start:.4g} to at most {DECREASE_FACTOR * start:.4g}, "
           f"got {end:.4g}")


def test_training_loop_trajectory(evidence, inputs, quiet):
    _check_trajectory(evidence, quiet, inputs, keys.TRAINING_LOOP, ref.training_loop, standin_loss(inputs),
                      TRAJECTORY_EPOCHS, "gd_lr", "training_loop", TRAJECTORY)


@requires("training_loop_trajectory")  # in place, it holds the trajectory's values: those earn this check too
def test_training_loop_updates_params_in_place(evidence, inputs, quiet):
    _check_same_params(evidence, inputs, quiet, keys.TRAINING_LOOP, ref.training_loop, standin_loss(inputs),
                       TRAJECTORY_EPOCHS, "gd_lr", "training_loop", TRAJECTORY)


@requires("training_loop_trajectory")
def test_training_loop_lowers_loss(evidence, inputs):
    _check_decrease(evidence, inputs, keys.TRAINING_LOOP, "training_loop", DECREASE_EPOCHS)


# training_loop_adam

def test_training_loop_adam_trajectory(evidence, inputs, quiet):
    _check_trajectory(evidence, quiet, inputs, keys.TRAINING_LOOP_ADAM, ref.training_loop_adam,
                      mse_with_flat_value, ADAM_TRAJECTORY_EPOCHS, "adam_lr", "training_loop_adam", ADAM_TRAJECTORY)


@requires("training_loop_adam_trajectory")
def test_training_loop_adam_returns_params(evidence, inputs, quiet):
    k = keys.TRAINING_LOOP_ADAM
    probe = evidence.probe(k.grade_id)
    for n in ADAM_TRAJECTORY_EPOCHS:
        probe.info(k.returned(n), f"training_loop_adam({n}, ...)")
        expect(probe.note(k.returned_is_params(n)) is True,
               f"training_loop_adam({n}, ...): must return the params tensor it was given, not a new tensor")
        info = probe.info(k.params(n), f"training_loop_adam({n}, ...)")
        expect(info.get("requires_grad") and not info.get("has_grad_fn"),
               f"training_loop_adam({n}, ...): params must stay a leaf tensor with requires_grad=True")


@requires("training_loop_adam_trajectory")
def test_training_loop_adam_lowers_loss(evidence, inputs):
    _check_decrease(evidence, inputs, keys.TRAINING_LOOP_ADAM, "training_loop_adam", DECREASE_EPOCHS)


# training_loop_module

def _reference_module(quiet, n: int, inputs: dict) -> torch.Tensor:
    net = quiet(ref.training_loop_module, n, float(inputs["module_lr"]), probe_module(inputs),
                inputs["module_x"], inputs["module_y"])
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_training_loop_module_trajectory(evidence, inputs, quiet):
    k = keys.TRAINING_LOOP_MODULE
    probe = evidence.probe(k.grade_id)
    for n in TRAJECTORY_EPOCHS:
        what = f"training_loop_module({n}, ...) on a Linear(1, 8)-Tanh-Linear(8, 1) module: its parameters"
        probe.info(k.returned(n), what)
        expect_close(probe.tensor(k.params(n), what), _reference_module(quiet, n, inputs), what,
                     **ADAM_TRAJECTORY)


@requires("training_loop_module_trajectory")
def test_training_loop_module_returns_model(evidence):
    k = keys.TRAINING_LOOP_MODULE
    probe = evidence.probe(k.grade_id)
    for n in TRAJECTORY_EPOCHS:
        info = probe.info(k.returned(n), f"training_loop_module({n}, ...)")
        expect(probe.note(k.returned_is_model(n)) is True,
               f"training_loop_module({n}, ...): must return the model it trained, "
               f"got {info.get('type') or info.get('kind')}")


@requires("training_loop_module_trajectory")
def test_training_loop_module_lowers_loss(evidence, inputs):
    k = keys.TRAINING_LOOP_MODULE
    probe = evidence.probe(k.grade_id)
    n = MODULE_DECREASE_EPOCHS
    what = f"training_loop_module for {n} epochs on y = sin(3x)"
    probe.info(k.returned(n), what)
    params = probe.tensor(k.params(n), what)
    net = probe_module(inputs)
    expect_shape(params, (sum(p.numel() for p in net.parameters()),), what)
    torch.nn.utils.vector_to_parameters(params.float(), net.parameters())
    with torch.no_grad():
        start = float(torch.nn.functional.mse_loss(probe_module(inputs)(inputs["module_x"]), inputs["module_y"]))
        end = float(torch.nn.functional.mse_loss(net(inputs["module_x"]), inputs["module_y"]))
    expect(end == end and end <= DECREASE_FACTOR * start,
           f"{what}: expected the MSE to fall from {start:.4g} to at most {DECREASE_FACTOR * start:.4g}, got {end:.4g}")


# make_dnn and NeuralNetwork

EXPECTED_LAYERS = ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


def _reference_dnn_output(inputs: dict) -> torch.Tensor:
    net = ref.make_dnn()
    with torch.no_grad():
        for p, i in zip(net.parameters(), range(len(DNN_SHAPES))):
            p.copy_(inputs[f"dnn_p{i}"])
        return net(inputs["dnn_x"])


@requires("make_dnn_forward")
def test_make_dnn_architecture(evidence):
    k = keys.MAKE_DNN
    probe = evidence.probe(k.grade_id)
    info = probe.info(k.net, "make_dnn()")
    expect(info.get("type") == "Sequential",
           f"make_dnn(): expected an nn.Sequential, got {info.get('type') or info.get('kind')}")
    layers = probe.note(k.layers)
    expect(layers == EXPECTED_LAYERS, f"make_dnn(): expected layers {EXPECTED_LAYERS}, got {layers}")
    shapes = [tuple(s) for s in probe.note(k.param_shapes) or []]
    expect(shapes == list(DNN_SHAPES), f"make_dnn(): expected parameter shapes {list(DNN_SHAPES)} "
           f"(Linear(1, 10), Linear(10, 10), Linear(10, 1)), got {shapes}")


def test_make_dnn_forward(evidence, inputs):
    what = "make_dnn() with the grader's weights, on 16 inputs in [-2, 2]"
    out = evidence.probe(keys.MAKE_DNN.grade_id).tensor(keys.MAKE_DNN.forward, what)
    expect_close(out, _reference_dnn_output(inputs), what, **REDUCTION)


@requires("neural_network_forward")
def test_neural_network_attributes(evidence):
    k = keys.NEURAL_NETWORK
    probe = evidence.probe(k.grade_id)
    info = probe.info(k.net, "NeuralNetwork()")
    attributes = probe.note(k.attributes)
    expect(isinstance(attributes, dict),
           f"NeuralNetwork(): expected an nn.Module, got {info.get('type') or info.get('kind')}")
    expected = {"fc1": ["Linear", [10, 1]], "fc2": ["Linear", [10, 10]], "out": ["Linear", [1, 10]]}
    for name, want in expected.items():
        expect(attributes.get(name) == want, f"NeuralNetwork().{name}: expected {want[0]} with weight shape "
               f"{tuple(want[1])}, got {attributes.get(name)}")
    relu = (attributes.get("relu") or [None])[0]
    expect(relu in ("ReLU", "function", "builtin_function_or_method"),
           f"NeuralNetwork().relu: expected nn.ReLU(), got {relu}")


def test_neural_network_forward(evidence, inputs):
    what = "NeuralNetwork() with the grader's weights, on 16 inputs in [-2, 2]"
    k = keys.NEURAL_NETWORK
    probe = evidence.probe(k.grade_id)
    probe.info(k.net, "NeuralNetwork()")
    expect_close(probe.tensor(k.forward, what), _reference_dnn_output(inputs), what, **REDUCTION)
