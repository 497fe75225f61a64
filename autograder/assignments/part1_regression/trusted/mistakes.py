"""Known mistakes of part1_regression, by graded cell: how each shows in the evidence, and what to look at.

Each mistake is recognised by replaying, with grader-written code on the submission's inputs, what a
function with that mistake returns (the reference with the mistake applied), compared within the
check's own tolerance. See autograder.diagnosis.
"""
from __future__ import annotations

import torch

from ....diagnosis import Mistake, all_zero, close, raised, returned, tensor
from ...probing import GRADIENT
from ..child import keys
from ..child.inputs import (
    ADAM_TRAJECTORY_EPOCHS,
    DNN_SHAPES,
    TRAJECTORY_EPOCHS,
    mse_with_flat_value,
    probe_module,
    standin_loss,
    standin_model,
)
from .checks import ADAM_TRAJECTORY, ELEMENTWISE, REDUCTION, TRAJECTORY

EXACT = dict(rtol=0.0, atol=0.0)
PREDICT_KEYS = keys.PREDICT_CLASSES.each()


# predict_classes

def _classes(fn):
    def matches(probe, inputs, quiet):
        return all(close(tensor(probe, k).double(), fn(inputs[k]).double(), **EXACT) for k in PREDICT_KEYS)
    return matches


PREDICT = ("predict_classes_values", "predict_classes_shape_and_dtype")
PREDICT_CLASSES = [
    Mistake("argmax_wrong_dim", PREDICT, "argmax over dimension 0 (the samples) instead of 1 (the classes)",
            "scores has shape [N, C]: argmax(dim=1) picks one class per row.", _classes(lambda s: s.argmax(dim=0))),
    Mistake("argmax_without_dim", PREDICT, "argmax without dim, over the whole flattened tensor",
            "torch.argmax(scores) returns one index into all N x C scores; pass dim=1 to get one class per row.",
            _classes(lambda s: s.argmax())),
    Mistake("max_values_not_indices", PREDICT, "the largest scores instead of their positions",
            "scores.max(dim=1) returns (values, indices); the classes are the indices (or use argmax(dim=1)).",
            lambda p, i, q: all(close(tensor(p, k), i[k].max(dim=1).values, **ELEMENTWISE) for k in PREDICT_KEYS)),
    Mistake("returns_zeros", PREDICT, "the function returns zeros whatever the scores, like a placeholder",
            "compute the classes from the scores.", lambda p, i, q: all_zero(p, PREDICT_KEYS)),
]


# model

def _model(fn):
    def matches(probe, inputs, quiet):
        w, b = inputs["model_w"], inputs["model_b"]
        return all(close(tensor(probe, key), fn(inputs[x], w, b), **ELEMENTWISE)
                   for key, x in ((keys.MODEL.vector, "model_x"), (keys.MODEL.matrix, "model_x2d")))
    return matches


MODEL_CHECKS = ("model_values", "model_broadcasts_over_x")
MODEL = [
    Mistake("bias_missing", MODEL_CHECKS, "the bias b is left out (w * x)", "the line is w * x + b.",
            _model(lambda x, w, b: w * x)),
    Mistake("returns_zeros", MODEL_CHECKS, "the function returns zeros whatever x, w and b, like a placeholder",
            "return w * x + b.", lambda p, i, q: all_zero(p, (keys.MODEL.vector, keys.MODEL.matrix))),
]


# loss_fn

def _loss(fn):
    return lambda p, i, q: returned(p, keys.LOSS_FN.value, fn(i["loss_pred"], i["loss_true"]), REDUCTION)


def _graph_lost(probe, inputs, quiet):
    value = probe.meta.get(keys.LOSS_FN.value, {})
    mse = ((inputs["loss_pred"] - inputs["loss_true"]) ** 2).mean()
    if value.get("kind") == "number":
        return returned(probe, keys.LOSS_FN.value, mse, REDUCTION)
    info64 = probe.meta.get(GRADIENT.loss64, {})
    return (value.get("kind") == "tensor" and returned(probe, keys.LOSS_FN.value, mse, REDUCTION)
            and info64.get("kind") == "tensor" and not info64.get("has_grad_fn") and not info64.get("requires_grad"))


LOSS_CHECKS = ("loss_fn_value", "loss_fn_gradient", "loss_fn_is_scalar")
LOSS_FN = [
    Mistake("sum_instead_of_mean", LOSS_CHECKS, "the squared errors are summed instead of averaged",
            "the mean squared error divides by the number of predictions: use .mean(), not .sum().",
            _loss(lambda p, t: ((p - t) ** 2).sum())),
    Mistake("absolute_error", LOSS_CHECKS, "the absolute error instead of the squared error",
            "square the differences: ((y_pred - y_true) ** 2).mean().", _loss(lambda p, t: (p - t).abs().mean())),
    Mistake("not_squared", LOSS_CHECKS, "the differences are averaged without squaring them",
            "positive and negative errors cancel out; square each difference before the mean.",
            _loss(lambda p, t: (p - t).mean())),
    Mistake("root_of_mse", LOSS_CHECKS, "the square root of the MSE (RMSE) instead of the MSE",
            "drop the torch.sqrt: the loss is the mean of the squared differences.",
            _loss(lambda p, t: ((p - t) ** 2).mean().sqrt())),
    Mistake("graph_lost", LOSS_CHECKS, "the value is right but it left autograd's graph (.item(), float() or "
            "torch.tensor(...) of a result)", "return the tensor expression itself, so loss.backward() can reach "
            "y_pred.", _graph_lost),
    Mistake("returns_zeros", LOSS_CHECKS, "the loss is zero whatever the predictions, like a placeholder",
            "compute the mean squared error of y_pred and y_true.",
            lambda p, i, q: all_zero(p, (keys.LOSS_FN.value,))),
]


# training_loop: plain gradient descent, replayed with the stand-ins the probe lent

def _descent(inputs, n: int, *, zero: str = "after", sign: float = -1.0, lr: float | None = None) -> torch.Tensor:
    params = inputs["line_init"].clone().requires_grad_()
    model, loss_fn = standin_model(inputs), standin_loss(inputs)
    lr = float(inputs["gd_lr"]) if lr is None else lr
    for _ in range(n):
        w, b = params
        loss = loss_fn(model(inputs["line_x"], w, b), inputs["line_y"])
        loss.backward()
        if zero == "before":
            params.grad.zero_()
        with torch.no_grad():
            params += sign * lr * params.grad
        if zero == "after":
            params.grad.zero_()
    return params.detach()


def _descent_like(**options):
    k = keys.TRAINING_LOOP

    def matches(probe, inputs, quiet):
        return all(close(tensor(probe, k.params(n)).flatten(), _descent(inputs, n, **options), **TRAJECTORY)
                   for n in TRAJECTORY_EPOCHS)
    return matches


def _never_changes(k: keys.LineLoopKeys, epochs, start):
    def matches(probe, inputs, quiet):
        initial = start(inputs)
        return all(probe.note(k.returned_is_params(n)) is True
                   and close(tensor(probe, k.params(n)).flatten(), initial, **EXACT) for n in epochs)
    return matches


def _rebinds(probe, inputs, quiet):
    k = keys.TRAINING_LOOP
    return all(probe.note(k.returned_is_params(n)) is False
               and close(tensor(probe, k.returned(n)).flatten(), _descent(inputs, n), **TRAJECTORY)
               for n in TRAJECTORY_EPOCHS)


def _raised_somewhere(error: str, *fragments: str):
    return lambda p, i, q: any(raised(p, keys.TRAINING_LOOP.returned(n), error, *fragments)
                               for n in TRAJECTORY_EPOCHS)


TL = ("training_loop_trajectory", "training_loop_updates_params_in_place", "training_loop_lowers_loss")
NEVER_ZEROED = ("the gradients are never zeroed, so each epoch's gradient is added to all earlier ones and the "
                "steps grow")
TRAINING_LOOP = [
    Mistake("gradients_not_zeroed", TL, NEVER_ZEROED, "loss.backward() adds to params.grad; call params.grad.zero_() "
            "after each update (outside torch.no_grad() is fine).", _descent_like(zero="never")),
    Mistake("gradient_ascent", TL, "the step goes along the gradient instead of against it (+= instead of -=)",
            "gradient descent subtracts: params -= learning_rate * params.grad.", _descent_like(sign=1.0)),
    Mistake("learning_rate_ignored", TL, "the step ignores the learning rate (a step of the full gradient)",
            "multiply the gradient by learning_rate before subtracting it.", _descent_like(lr=1.0)),
    Mistake("params_never_change", TL, "params come back exactly as they went in: no update reaches them",
            "check that the update runs and is not multiplied by a zeroed gradient (zero the gradient after the "
            "update, not before).", _never_changes(keys.TRAINING_LOOP, TRAJECTORY_EPOCHS, lambda i: i["line_init"])),
    Mistake("rebinds_params", TL, "the values are right, but in a new tensor: params = ... rebinds the name instead "
            "of updating the tensor passed in", "update in place under torch.no_grad() (params -= ...), so the "
            "caller's tensor changes and the same tensor is returned.", _rebinds),
    Mistake("update_outside_no_grad", TL, "the in-place update runs while autograd records, which PyTorch refuses "
            "for a leaf that requires grad", "wrap the update in `with torch.no_grad():`.",
            _raised_somewhere("RuntimeError", "leaf Variable that requires grad")),
    Mistake("rebind_loses_grad", TL, "params = params - ... inside torch.no_grad() makes a new tensor that does not "
            "require grad, so the next loss.backward() fails", "update in place (params -= ...), which keeps params "
            "the leaf that requires grad.", _raised_somewhere("RuntimeError", "does not require grad")),
]


# training_loop_adam: replayed with the constant-value loss the probe lent

def _adam(inputs, n: int, *, scheduler: str = "after", zero: bool = True) -> torch.Tensor:
    params = inputs["line_init"].clone().requires_grad_()
    model = standin_model(inputs)
    optimizer = torch.optim.Adam([params], lr=float(inputs["adam_lr"]))
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    for _ in range(n):
        w, b = params
        loss = mse_with_flat_value(model(inputs["line_x"], w, b), inputs["line_y"])
        if zero:
            optimizer.zero_grad()
        loss.backward()
        if scheduler == "before":
            plateau.step(loss)
        optimizer.step()
        if scheduler == "after":
            plateau.step(loss)
    return params.detach()


def _adam_like(**options):
    k = keys.TRAINING_LOOP_ADAM

    def matches(probe, inputs, quiet):
        return all(close(tensor(probe, k.params(n)).flatten(), _adam(inputs, n, **options), **ADAM_TRAJECTORY)
                   for n in ADAM_TRAJECTORY_EPOCHS)
    return matches


def _returns_copy(probe, inputs, quiet):
    k = keys.TRAINING_LOOP_ADAM
    return all(probe.note(k.returned_is_params(n)) is False
               and close(tensor(probe, k.returned(n)), tensor(probe, k.params(n)), **EXACT)
               for n in ADAM_TRAJECTORY_EPOCHS)


ADAM_CHECKS = ("training_loop_adam_trajectory", "training_loop_adam_returns_params", "training_loop_adam_lowers_loss")
TRAINING_LOOP_ADAM = [
    Mistake("scheduler_missing", ADAM_CHECKS, "the learning-rate scheduler is never stepped",
            "create ReduceLROnPlateau(optimizer, 'min') and call scheduler.step(loss) once per epoch, after "
            "optimizer.step().", _adam_like(scheduler="none")),
    Mistake("scheduler_before_step", ADAM_CHECKS, "scheduler.step(loss) runs before optimizer.step()",
            "step the optimizer first, then the scheduler.", _adam_like(scheduler="before")),
    Mistake("gradients_not_zeroed", ADAM_CHECKS, NEVER_ZEROED, "call optimizer.zero_grad() before loss.backward() "
            "in every epoch.", _adam_like(zero=False)),
    Mistake("returns_copy", ADAM_CHECKS, "the training is right, but a copy of params is returned",
            "return params itself, the tensor the optimizer updated.", _returns_copy),
    Mistake("params_never_change", ADAM_CHECKS, "params come back exactly as they went in: no update reaches them",
            "create the optimizer on [params] and call optimizer.step() each epoch.",
            _never_changes(keys.TRAINING_LOOP_ADAM, ADAM_TRAJECTORY_EPOCHS, lambda i: i["line_init"])),
]


# training_loop_module

def _module_run(inputs, n: int, *, zero: str = "before_backward", fresh_optimizer: bool = False) -> torch.Tensor:
    net = probe_module(inputs)
    lr = float(inputs["module_lr"])
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    for _ in range(n):
        if fresh_optimizer:
            optimizer = torch.optim.Adam(net.parameters(), lr=lr)
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
        if zero == "before_backward":
            optimizer.zero_grad()
        loss = criterion(net(inputs["module_x"]), inputs["module_y"])
        loss.backward()
        if zero == "before_step":
            optimizer.zero_grad()
        optimizer.step()
        plateau.step(loss)
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def _module_like(**options):
    k = keys.TRAINING_LOOP_MODULE

    def matches(probe, inputs, quiet):
        return all(close(tensor(probe, k.params(n)), _module_run(inputs, n, **options), **ADAM_TRAJECTORY)
                   for n in TRAJECTORY_EPOCHS)
    return matches


def _module_never_changes(probe, inputs, quiet):
    initial = torch.cat([p.detach().flatten() for p in probe_module(inputs).parameters()])
    return all(close(tensor(probe, keys.TRAINING_LOOP_MODULE.params(n)), initial, **EXACT) for n in TRAJECTORY_EPOCHS)


MODULE_CHECKS = ("training_loop_module_trajectory", "training_loop_module_returns_model",
                 "training_loop_module_lowers_loss")
TRAINING_LOOP_MODULE = [
    Mistake("gradients_not_zeroed", MODULE_CHECKS, NEVER_ZEROED, "call optimizer.zero_grad() (it zeroes the "
            "model's parameters; the loss function has none) before loss.backward() in every epoch.",
            _module_like(zero="never")),
    Mistake("params_never_change", MODULE_CHECKS, "the model's parameters come back exactly as they went in",
            "zero the gradients before loss.backward(), not between backward() and step(), and call "
            "optimizer.step() each epoch.", _module_never_changes),
    Mistake("optimizer_recreated", MODULE_CHECKS, "a new optimizer (and scheduler) is made every epoch, so Adam's "
            "running averages start over each time", "create the optimizer and the scheduler once, before the loop.",
            _module_like(fresh_optimizer=True)),
]


# make_dnn and NeuralNetwork: the forward pass with the grader's weights

def _dnn(inputs, acts=(torch.relu, torch.relu), last=lambda h: h) -> torch.Tensor:
    p = [inputs[f"dnn_p{i}"] for i in range(len(DNN_SHAPES))]
    h = inputs["dnn_x"] @ p[0].T + p[1]
    h = acts[0](h) @ p[2].T + p[3]
    return last(acts[1](h) @ p[4].T + p[5])


def _forward_like(forward: str, *variants):
    def matches(probe, inputs, quiet):
        out = tensor(probe, forward)
        return any(close(out, variant(inputs), **REDUCTION) for variant in variants)
    return matches


def _no_op(h):
    return h


def _wrong_sizes_sequential(probe, inputs, quiet):
    shapes = probe.note(keys.MAKE_DNN.param_shapes)
    return isinstance(shapes, list) and [tuple(s) for s in shapes] != list(DNN_SHAPES)


def _wrong_sizes_module(probe, inputs, quiet):
    attributes = probe.note(keys.NEURAL_NETWORK.attributes)
    expected = {"fc1": ["Linear", [10, 1]], "fc2": ["Linear", [10, 10]], "out": ["Linear", [1, 10]]}
    return isinstance(attributes, dict) and all(isinstance(attributes.get(n), list) for n in expected) and any(
        attributes[n][0] == "Linear" and attributes[n] != want for n, want in expected.items())


def _networks(forward: str, checks: tuple[str, ...], wrong_sizes) -> list[Mistake]:
    """The mistakes of a network whose forward pass with the grader's weights is recorded under `forward`."""
    return [
        Mistake("missing_relu", checks, "a ReLU is missing between two Linear layers",
                "put a ReLU after the first and after the second Linear layer.",
                _forward_like(forward, lambda i: _dnn(i, (_no_op, torch.relu)),
                              lambda i: _dnn(i, (torch.relu, _no_op)))),
        Mistake("relu_on_output", checks, "a ReLU after the last Linear layer clips every negative output to 0",
                "a regression network's output layer has no activation.",
                _forward_like(forward, lambda i: _dnn(i, last=torch.relu))),
        Mistake("sigmoid_instead_of_relu", checks, "Sigmoid activations where the network has ReLU",
                "use nn.ReLU() between the Linear layers.",
                _forward_like(forward, lambda i: _dnn(i, (torch.sigmoid, torch.sigmoid)))),
        Mistake("layer_sizes", checks, "the Linear layers have other sizes than 1 -> 10 -> 10 -> 1",
                "use Linear(1, 10), Linear(10, 10) and Linear(10, 1).", wrong_sizes),
        Mistake("returns_zeros", checks, "the network returns zeros whatever its input, like a placeholder",
                "let forward compute the layers.", lambda p, i, q: all_zero(p, (forward,))),
    ]


# Mistakes by the grade_id of the graded cell (and probe) whose checks they explain.
MISTAKES: dict[str, list[Mistake]] = {
    keys.PREDICT_CLASSES.grade_id: PREDICT_CLASSES,
    keys.MODEL.grade_id: MODEL,
    keys.LOSS_FN.grade_id: LOSS_FN,
    keys.TRAINING_LOOP.grade_id: TRAINING_LOOP,
    keys.TRAINING_LOOP_ADAM.grade_id: TRAINING_LOOP_ADAM,
    keys.TRAINING_LOOP_MODULE.grade_id: TRAINING_LOOP_MODULE,
    keys.MAKE_DNN.grade_id: _networks(keys.MAKE_DNN.forward, ("make_dnn_architecture", "make_dnn_forward"),
                                      _wrong_sizes_sequential),
    keys.NEURAL_NETWORK.grade_id: _networks(keys.NEURAL_NETWORK.forward,
                                            ("neural_network_attributes", "neural_network_forward"),
                                            _wrong_sizes_module),
}
