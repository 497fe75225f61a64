"""Probes of part1_regression: one per nbgrader grade_id, each calling one student function."""
from __future__ import annotations

import torch

from ....sandbox.recorder import Recorder
from ...probing import lent, record_gradient, student
from . import keys
from .inputs import (
    ADAM_TRAJECTORY_EPOCHS,
    DECREASE_EPOCHS,
    DNN_SHAPES,
    MODULE_DECREASE_EPOCHS,
    TRAJECTORY_EPOCHS,
    mse_with_flat_value,
    probe_module,
    standin_loss,
    standin_model,
)


def probe_predict_classes(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "predict_classes", rec)
    for key in keys.PREDICT_CLASSES.each():
        rec.call(key, f, inputs[key].clone())


def probe_model(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "model", rec)
    k = keys.MODEL
    w, b = inputs["model_w"], inputs["model_b"]
    rec.call(k.vector, f, inputs["model_x"].clone(), w.clone(), b.clone())
    rec.call(k.matrix, f, inputs["model_x2d"].clone(), w.clone(), b.clone())


def probe_loss_fn(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "loss_fn", rec)
    rec.call(keys.LOSS_FN.value, f, inputs["loss_pred"].clone(), inputs["loss_true"].clone())
    record_gradient(rec, f, inputs["loss_pred64"], inputs["loss_true64"])


def _trajectories(rec: Recorder, k: keys.LineLoopKeys, f, epochs, lr_key: str, inputs: dict) -> None:
    lr = float(inputs[lr_key])
    for n in epochs:
        params = inputs["line_init"].clone().requires_grad_()
        returned = rec.call(k.returned(n), f, n, lr, params, inputs["line_x"], inputs["line_y"])
        rec.output(k.params(n), params)
        rec.note(k.returned_is_params(n), returned is params)


def _decrease(rec: Recorder, k: keys.LineLoopKeys, f, epochs: int, lr_key: str, inputs: dict) -> None:
    params = inputs["line_init"].clone().requires_grad_()
    rec.call(k.decrease_returned, f, epochs, float(inputs[lr_key]), params, inputs["line_x"], inputs["line_y"])
    rec.output(k.decrease_params, params)


def probe_training_loop(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "training_loop", rec)
    with lent(ns, model=standin_model(inputs), loss_fn=standin_loss(inputs)):
        _trajectories(rec, keys.TRAINING_LOOP, f, TRAJECTORY_EPOCHS, "gd_lr", inputs)
        _decrease(rec, keys.TRAINING_LOOP, f, DECREASE_EPOCHS, "gd_lr", inputs)


def probe_training_loop_adam(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "training_loop_adam", rec)
    with lent(ns, model=standin_model(inputs), loss_fn=mse_with_flat_value):
        _trajectories(rec, keys.TRAINING_LOOP_ADAM, f, ADAM_TRAJECTORY_EPOCHS, "adam_lr", inputs)
    with lent(ns, model=standin_model(inputs), loss_fn=standin_loss(inputs)):
        _decrease(rec, keys.TRAINING_LOOP_ADAM, f, DECREASE_EPOCHS, "adam_lr", inputs)


def probe_training_loop_module(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "training_loop_module", rec)
    k = keys.TRAINING_LOOP_MODULE
    lr = float(inputs["module_lr"])
    for n in (*TRAJECTORY_EPOCHS, MODULE_DECREASE_EPOCHS):
        net = probe_module(inputs)
        returned = rec.call(k.returned(n), f, n, lr, net, inputs["module_x"], inputs["module_y"])
        rec.note(k.returned_is_model(n), returned is net)
        rec.output(k.params(n), torch.cat([p.detach().flatten() for p in net.parameters()]))


def _load(params: list, inputs: dict) -> bool:
    """Copy the grader's weights into `params` (in order) if their shapes are DNN_SHAPES'."""
    if not all(isinstance(p, torch.Tensor) for p in params) or [tuple(p.shape) for p in params] != list(DNN_SHAPES):
        return False
    with torch.no_grad():
        for i, p in enumerate(params):
            p.copy_(inputs[f"dnn_p{i}"])
    return True


def probe_make_dnn(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "make_dnn", rec)
    k = keys.MAKE_DNN
    net = rec.call(k.net, f)
    if not isinstance(net, torch.nn.Module):
        rec.note(k.layers, None)
        rec.note(k.param_shapes, None)
        rec.skip(k.forward, "make_dnn() did not return an nn.Module")
        return
    rec.note(k.layers, [type(m).__name__ for m in net.children()])
    params = list(net.parameters())
    rec.note(k.param_shapes, [list(p.shape) for p in params])
    if _load(params, inputs):
        rec.call(k.forward, net, inputs["dnn_x"].clone())
    else:
        rec.skip(k.forward, "its parameters must have the shapes of Linear(1, 10), Linear(10, 10), Linear(10, 1) "
                            "for the grader to load its weights")


def probe_neural_network(ns: dict, inputs: dict, rec: Recorder) -> None:
    cls = student(ns, "NeuralNetwork", rec)
    k = keys.NEURAL_NETWORK
    net = rec.call(k.net, cls)
    if not isinstance(net, torch.nn.Module):
        rec.note(k.attributes, None)
        rec.skip(k.forward, "NeuralNetwork() did not make an nn.Module")
        return
    attributes = {}
    for name in ("fc1", "fc2", "out", "relu"):
        layer = getattr(net, name, None)
        weight = getattr(layer, "weight", None)
        attributes[name] = [type(layer).__name__, list(weight.shape) if isinstance(weight, torch.Tensor) else None]
    rec.note(k.attributes, attributes)
    if _load([getattr(getattr(net, n, None), a, None) for n in ("fc1", "fc2", "out") for a in ("weight", "bias")],
             inputs):
        rec.call(k.forward, net, inputs["dnn_x"].clone())
    else:
        rec.skip(k.forward, "fc1, fc2 and out must be Linear(1, 10), Linear(10, 10), Linear(10, 1) for the grader to "
                            "load its weights")


PROBES = {
    keys.PREDICT_CLASSES.grade_id: probe_predict_classes,
    keys.MODEL.grade_id: probe_model,
    keys.LOSS_FN.grade_id: probe_loss_fn,
    keys.TRAINING_LOOP.grade_id: probe_training_loop,
    keys.TRAINING_LOOP_ADAM.grade_id: probe_training_loop_adam,
    keys.TRAINING_LOOP_MODULE.grade_id: probe_training_loop_module,
    keys.MAKE_DNN.grade_id: probe_make_dnn,
    keys.NEURAL_NETWORK.grade_id: probe_neural_network,
}
