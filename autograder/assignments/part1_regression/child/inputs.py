"""Inputs for part1_regression's probes: scores, lines, a small module and network weights."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import torch

if TYPE_CHECKING:  # the child imports this module, and never the config
    from ....config import CourseConfig

# Epoch counts at which training trajectories are compared with the reference. Adam's are the
# epochs just after ReduceLROnPlateau's cuts (after epochs 12, 23, 34, see mse_with_flat_value):
# there a scheduler that is missing or stepped before the optimizer is off by more than 0.03 on
# every one of 306 random seeds tried, more than 0.04 on all but two, against a tolerance of about
# 0.005 (tests/test_inputs.py pins a sample).
TRAJECTORY_EPOCHS = (1, 2, 3, 20)
ADAM_TRAJECTORY_EPOCHS = (1, 2, 13, 24, 35, 40)
# Budgets of the loss-decrease checks.
DECREASE_EPOCHS = 200
MODULE_DECREASE_EPOCHS = 300
# make_dnn / NeuralNetwork parameter shapes in order: fc1, fc2, out (weight, bias each).
DNN_SHAPES = ((10, 1), (10,), (10, 10), (10,), (1, 10), (1,))


def make_inputs(config: CourseConfig, seed: int) -> dict[str, torch.Tensor]:
    """Every tensor the part1 probes need, from one submission's seed (autograder.seeds)."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=dtype)

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=g)

    line_x = torch.rand(40, generator=g)
    slope, intercept = uniform(1.0, 3.0), uniform(-1.0, 1.0)
    shift = uniform(0.1, 0.3)  # the stand-in model's offset (standin_model)
    # The training loops start at a distance of 2 to 3 from the stand-in's best line, in a random
    # direction: the loss starts near 0.2 or more (4 times the smallest eigenvalue of E[(1, x)(1, x)^T]),
    # far above the noise floor (0.01), so "the loss halves" holds for every correct loop and seed.
    angle, radius = uniform(0.0, 2 * math.pi), uniform(2.0, 3.0)
    line_init = torch.stack([slope + radius * torch.cos(angle), intercept - shift + radius * torch.sin(angle)])
    module_x = uniform(-1.0, 1.0, 32, 1)
    inputs = {
        "scores": randn(7, 5),
        "scores_one": randn(1, 5),
        "scores_wide": randn(3, 11),
        "model_x": randn(9),
        "model_x2d": randn(3, 4),
        "model_w": randn(),
        "model_b": randn(),
        "loss_pred": randn(20),
        "loss_true": randn(20),
        "loss_pred64": randn(6, dtype=torch.float64),
        "loss_true64": randn(6, dtype=torch.float64),
        "line_x": line_x,
        "line_y": slope * line_x + intercept + 0.1 * randn(40),
        "line_init": line_init,
        # Plain gradient descent: a step size that converges on x in [0, 1] (stable below 0.5), large
        # enough that 200 epochs close the slow direction of the line's loss too.
        "gd_lr": uniform(0.1, 0.25),
        # Adam with a step large enough to oscillate, so ReduceLROnPlateau fires in the budget.
        "adam_lr": uniform(0.8, 1.2),
        "module_x": module_x,
        "module_y": torch.sin(3 * module_x),
        "module_w1": randn(8, 1),
        "module_b1": randn(8),
        "module_w2": randn(1, 8) / 3,
        "module_b2": randn(1),
        "module_lr": uniform(0.02, 0.05),
        "dnn_x": uniform(-2.0, 2.0, 16, 1),
        # The stand-ins lent as `model` and `loss_fn` to the training loops (see standin_model).
        "standin_shift": shift,
        "standin_weights": uniform(0.5, 1.5, 40),
    }
    for i, shape in enumerate(DNN_SHAPES):
        inputs[f"dnn_p{i}"] = randn(*shape)
    # Shift the output bias so the network's 16 outputs lie on both sides of zero (about half
    # negative): with random weights alone they are all positive for some seeds, and then a
    # ReLU after the last layer changes nothing the forward checks can see. The lecture's network
    # (Linear, ReLU, Linear, ReLU, Linear) is written out here, never as a function of its own: the
    # child imports this module, and student code could call such a function as its forward.
    h = torch.relu(inputs["dnn_x"] @ inputs["dnn_p0"].T + inputs["dnn_p1"])
    h = torch.relu(h @ inputs["dnn_p2"].T + inputs["dnn_p3"])
    inputs["dnn_p5"] = inputs["dnn_p5"] - (h @ inputs["dnn_p4"].T + inputs["dnn_p5"]).median()
    return inputs


def mse_with_flat_value(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """The MSE's gradient with a constant value of 1.0, lent as `loss_fn` for Adam trajectories.

    ReduceLROnPlateau then never sees an improvement after the first epoch, so it cuts the
    learning rate after epochs 12, 23 and 34 exactly, whatever the rounding: a missing or
    misplaced scheduler.step shows in the parameters, never a near-tie in the loss.
    """
    mse = ((y_pred - y_true) ** 2).mean()
    return mse - mse.detach() + 1.0


def probe_module(inputs: dict[str, torch.Tensor]) -> torch.nn.Module:
    """The grader's module for training_loop_module: Linear(1, 8), Tanh, Linear(8, 1), seeded weights."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        net[0].weight.copy_(inputs["module_w1"])
        net[0].bias.copy_(inputs["module_b1"])
        net[2].weight.copy_(inputs["module_w2"])
        net[2].bias.copy_(inputs["module_b2"])
    return net


# The training loops' probes lend these stand-ins for `model` and `loss_fn` (isolated credit: a
# wrong model or loss_fn costs only its own checks). They differ in value from the reference
# `model` (w * x + b) and `loss_fn` (the plain MSE), so no one can submit them as an answer, and
# their constants come from the submission's inputs. The hidden suites replay the reference
# training loops with the same stand-ins.

# The stand-ins' least offset and least spread of weights (max - min over their mean). make_inputs draws the
# offset in [0.1, 0.3] and 40 weights in [0.5, 1.5], whose spread is below 0.2 with probability 1e-26. The
# factories hold to them whatever dict they are given: student code that finds them (through gc) and passes
# an offset of 0 or equal weights gets no reference line or plain MSE to submit as its own.
STANDIN_MIN_SHIFT = 0.1
STANDIN_MIN_SPREAD = 0.2


def standin_model(inputs: dict[str, torch.Tensor]) -> Callable:
    """The line w * x + b moved up by a constant c in [0.1, 0.3]: training fits the same kind of line,
    with the same gradients with respect to w and b, while its values are never the reference's."""
    shift = max(float(inputs["standin_shift"]), STANDIN_MIN_SHIFT)

    def model(x, w, b):
        return w * x + b + shift

    return model


def standin_loss(inputs: dict[str, torch.Tensor]) -> Callable:
    """A weighted mean squared error (weights of mean 1 over the 40 points of the line); ValueError for weights
    that hardly differ (it would be the plain MSE)."""
    weights = inputs["standin_weights"] / inputs["standin_weights"].mean()
    if not float(weights.max() - weights.min()) >= STANDIN_MIN_SPREAD:
        raise ValueError("the stand-in loss needs weights that differ")

    def loss_fn(y_pred, y_true):
        return (weights * (y_pred - y_true) ** 2).mean()

    return loss_fn


def standin_line_loss(params: torch.Tensor, inputs: dict[str, torch.Tensor]) -> float:
    """The stand-in loss of params = [w, b] on the grader's line, in float64."""
    w, b = params.detach().double()
    prediction = w * inputs["line_x"].double() + b + float(inputs["standin_shift"])
    weights = inputs["standin_weights"].double() / inputs["standin_weights"].double().mean()
    return float((weights * (prediction - inputs["line_y"].double()) ** 2).mean())
