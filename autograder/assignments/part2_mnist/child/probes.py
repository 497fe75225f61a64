"""Probes of part2_mnist: one per nbgrader grade_id, each calling one student function."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from ....sandbox.recorder import Recorder
from ...probing import lent, record_gradient, student
from . import keys
from .inputs import (
    LOADER_SMALL_BATCH,
    LOOP_EPOCHS,
    PROBE_LR,
    VALIDATE_AFTER_SAMPLES,
    VALIDATE_CASES,
    loop_standins,
    probe_batches,
    probe_mlp,
    training_loader,
    validate_batches,
    validate_model,
)


def _params(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def probe_compute_mean_std(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "compute_mean_std", rec)
    dataset = [(img.clone(), i % 10) for i, img in enumerate(inputs["mean_std_images"])]
    rec.call(keys.COMPUTE_MEAN_STD.returned, f, dataset)


def probe_normalize(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "normalize", rec)
    k = keys.NORMALIZE
    mean, std = inputs["norm_mean"], inputs["norm_std"]
    rec.call(k.image, f, inputs["norm_image"].clone(), mean.clone(), std.clone())
    rec.call(k.batch, f, inputs["norm_batch"].clone(), mean.clone(), std.clone())
    rec.call(k.half, f, inputs["unit_image"].clone(), 0.5, 0.5)


def probe_make_transform(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "make_transform", rec)
    k = keys.MAKE_TRANSFORM
    mean = tuple(inputs["transform_mean"].tolist())
    std = tuple(inputs["transform_std"].tolist())
    images = [Image.fromarray(np.asarray(img.numpy(), dtype=np.uint8), mode="L")
              for img in inputs["transform_images"]]
    transform = rec.call(k.transform, f, mean, std)
    if transform is None:
        rec.skip(k.outputs, "make_transform(mean, std) returned no transform")
    else:
        rec.call(k.outputs, lambda: torch.stack([transform(img) for img in images]))


def probe_binary_cross_entropy(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "binary_cross_entropy", rec)
    k = keys.BINARY_CROSS_ENTROPY
    rec.call(k.values, f, inputs["bce_p"].clone(), inputs["bce_y"].clone())
    rec.call(k.extremes, f, inputs["bce_extreme_p"].clone(), inputs["bce_extreme_y"].clone())
    rec.call(k.perfect, f, inputs["bce_perfect_p"].clone(), inputs["bce_perfect_y"].clone())
    record_gradient(rec, f, inputs["bce_p64"], inputs["bce_y64"])


def probe_mnist_model(ns: dict, inputs: dict, rec: Recorder) -> None:
    cls = student(ns, "MNISTModel", rec)
    k = keys.MNIST_MODEL
    net = rec.call(k.net, cls)
    if not isinstance(net, nn.Module):
        rec.note(k.layers, None)
        rec.note(k.parameters, None)
        rec.note(k.loaded, False)
        for key in (k.images, k.flat, k.one_image, k.one_flat):
            rec.skip(key, "MNISTModel() did not make an nn.Module")
        return
    layers = {}
    for name in ("fc1", "fc2"):
        layer = getattr(net, name, None)
        weight = getattr(layer, "weight", None)
        layers[name] = [type(layer).__name__, list(weight.shape) if isinstance(weight, torch.Tensor) else None]
    rec.note(k.layers, layers)
    rec.note(k.parameters, sum(p.numel() for p in net.parameters()))
    loadable = layers == {"fc1": ["Linear", [512, 784]], "fc2": ["Linear", [10, 512]]}
    if loadable:
        with torch.no_grad():
            net.fc1.weight.copy_(inputs["mm_w1"])
            net.fc1.bias.copy_(inputs["mm_b1"])
            net.fc2.weight.copy_(inputs["mm_w2"])
            net.fc2.bias.copy_(inputs["mm_b2"])
    rec.note(k.loaded, loadable)
    net.eval()
    with torch.no_grad():
        rec.call(k.images, net, inputs["mm_x"].clone())
        rec.call(k.flat, net, inputs["mm_x"].reshape(5, 784).clone())
        rec.call(k.one_image, net, inputs["mm_x_one"].clone())
        rec.call(k.one_flat, net, inputs["mm_x_one"].reshape(1, 784).clone())


def _order(loader) -> tuple[torch.Tensor, list[int]]:
    batches = [torch.as_tensor(b).flatten() for b in loader]
    return torch.cat(batches) if batches else torch.empty(0), [len(b) for b in batches]


def _pair(loaders) -> bool:
    return isinstance(loaders, (tuple, list)) and len(loaders) == 2


def _test_sizes(loaders) -> list[int] | None:
    """The batch sizes of the test loader of make_loaders' (train, test) pair; None if there is none or it raised."""
    if not _pair(loaders):
        return None
    try:
        return _order(loaders[1])[1]
    except Exception:  # noqa: BLE001 - the student's loader failed: the check reports no batch sizes
        return None


def probe_make_loaders(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "make_loaders", rec)
    k = keys.MAKE_LOADERS
    train_items, test_items = inputs["loader_train_items"].tolist(), inputs["loader_test_items"].tolist()
    loaders = rec.call(k.default, f, list(train_items), list(test_items))
    for key, sizes_key, which in ((k.train_order(1), k.train_sizes(1), 0), (k.train_order(2), k.train_sizes(2), 0),
                                  (k.test_order, k.test_sizes, 1)):
        if _pair(loaders):
            _, sizes = rec.call(key, _order, loaders[which]) or (None, None)
        else:
            rec.skip(key, "make_loaders did not return two loaders (train_loader, test_loader)")
            sizes = None
        rec.note(sizes_key, sizes)
    small = rec.call(k.small, f, list(train_items), list(test_items), batch_size=LOADER_SMALL_BATCH)
    rec.note(k.small_test_sizes, _test_sizes(small))


def probe_train_epoch(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "train_epoch", rec)
    net = probe_mlp(inputs)
    optimizer = torch.optim.SGD(net.parameters(), lr=PROBE_LR)
    rec.call(keys.TRAIN_EPOCH.returned, f, net, probe_batches(inputs), optimizer, nn.CrossEntropyLoss())
    rec.output(keys.TRAIN_EPOCH.params, _params(net))


def probe_validate(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "validate", rec)
    k = keys.VALIDATE
    # Eval mode and grad mode are read off values, not off flags the student's code could reset: each model
    # below gives its reference result only when validate runs it correctly, and the dropout model's output
    # afterwards shows whether validate left it in train mode. Every model and loader is a different one
    # (inputs.validate_model), so no result can be reused for another call.
    for key, case in zip(k.results(), VALIDATE_CASES):
        model = validate_model(inputs, case)
        rec.call(key, f, model, validate_batches(inputs, case), nn.CrossEntropyLoss())
        if key == k.returned:
            rec.output(k.params_after, _params(model))
        elif key == k.train_mask:
            rec.note(k.modules_in_eval_mode, sum(not m.training for m in model.modules()))
            rec.output(k.mask_params_after, _params(model))
            with torch.no_grad():
                rec.call(k.output_after, model, inputs["te_x"][:VALIDATE_AFTER_SAMPLES].clone())


def probe_training_loop(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "training_loop", rec)
    k = keys.TRAINING_LOOP
    calls: list[str] = []
    train_epoch, validate = loop_standins(inputs, calls)
    net = probe_mlp(inputs)
    with lent(ns, train_epoch=train_epoch, validate=validate):
        rec.call(k.returned, f, net, probe_batches(inputs), probe_batches(inputs),
                 torch.optim.SGD(net.parameters(), lr=PROBE_LR), nn.CrossEntropyLoss(), LOOP_EPOCHS)
    rec.note(k.calls, calls[:50])


def probe_shift_pixels(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "shift_pixels", rec)
    k = keys.SHIFT_PIXELS
    rec.call(k.image, f, inputs["shift_image"].clone(), 3)
    rec.call(k.batch, f, inputs["shift_batch"].clone(), 5)
    rec.call(k.default, f, inputs["shift_image"].clone())


def probe_mnist_accuracy(ns: dict, inputs: dict, rec: Recorder) -> None:
    """Train the student's MNISTModel with the student's train_epoch; record the trained weights.

    The test images never enter the child: the trusted process evaluates the weights in the
    reference architecture (a forward pass that looks anything up earns nothing).
    """
    cls = student(ns, "MNISTModel", rec)
    train_epoch = student(ns, "train_epoch", rec)
    k = keys.MNIST_ACCURACY
    generator = torch.Generator().manual_seed(int(torch.initial_seed()))
    loader = training_loader(inputs, generator)
    model = rec.call(k.net, cls)
    epochs = range(int(inputs["acc_epochs"]))
    trained = [f"{layer}.{name}" for layer in ("fc1", "fc2") for name in ("weight", "bias")]
    if not isinstance(model, nn.Module):
        for key in [*map(k.epoch, epochs), *map(k.trained, trained)]:
            rec.skip(key, "MNISTModel() did not make an nn.Module")
        return
    optimizer = torch.optim.SGD(model.parameters(), lr=float(inputs["acc_lr"]))
    for epoch in epochs:
        if rec.call(k.epoch(epoch), train_epoch, model, loader, optimizer, nn.CrossEntropyLoss()) is None \
                and rec.meta[k.epoch(epoch)].get("kind") == "raised":
            for key in [*map(k.epoch, epochs[epoch + 1:]), *map(k.trained, trained)]:
                rec.skip(key, f"train_epoch raised in epoch {epoch + 1}")
            return
    for name in trained:
        layer, parameter = name.split(".")
        value = getattr(getattr(model, layer, None), parameter, None)
        rec.output(k.trained(name), value if isinstance(value, torch.Tensor) else None)


PROBES = {
    keys.COMPUTE_MEAN_STD.grade_id: probe_compute_mean_std,
    keys.NORMALIZE.grade_id: probe_normalize,
    keys.MAKE_TRANSFORM.grade_id: probe_make_transform,
    keys.BINARY_CROSS_ENTROPY.grade_id: probe_binary_cross_entropy,
    keys.MNIST_MODEL.grade_id: probe_mnist_model,
    keys.MAKE_LOADERS.grade_id: probe_make_loaders,
    keys.TRAIN_EPOCH.grade_id: probe_train_epoch,
    keys.VALIDATE.grade_id: probe_validate,
    keys.TRAINING_LOOP.grade_id: probe_training_loop,
    keys.SHIFT_PIXELS.grade_id: probe_shift_pixels,
    keys.MNIST_ACCURACY.grade_id: probe_mnist_accuracy,
}
