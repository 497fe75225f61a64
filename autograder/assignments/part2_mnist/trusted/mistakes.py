"""Known mistakes of part2_mnist, by graded cell: how each shows in the evidence, and what to look at.

Each mistake is recognised by replaying, with grader-written code on the submission's inputs, what a
function with that mistake returns (the reference with the mistake applied), compared within the
check's own tolerance. See autograder.diagnosis.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from ....diagnosis import Mistake, all_zero, close, raised, returned, tensor
from ....sandbox.recorder import item
from ..child import keys
from ..child.inputs import (
    LOADER_TEST,
    LOADER_TRAIN,
    LOOP_EPOCHS,
    PROBE_LR,
    probe_batches,
    probe_mlp,
    validate_batches,
    validate_model,
)
from .checks import BCE, ELEMENTWISE, EPOCH, FRACTION, LOGITS, MEAN, SAME_MODEL, STD

EXACT = dict(rtol=0.0, atol=0.0)


# compute_mean_std

# compute_mean_std returns (mean, std): the items 0 and 1 of what it returned.
MEAN_KEY, STD_KEY = item(keys.COMPUTE_MEAN_STD.returned, 0), item(keys.COMPUTE_MEAN_STD.returned, 1)


def _statistics(mean_fn, std_fn, shape=(1,)):
    def matches(probe, inputs, quiet):
        images = inputs["mean_std_images"]
        return (close(tensor(probe, MEAN_KEY).reshape(shape), mean_fn(images).reshape(shape), **MEAN)
                and close(tensor(probe, STD_KEY).reshape(shape), std_fn(images).reshape(shape), **STD))
    return matches


def _zero_dim(probe, inputs, quiet):
    mean, std = tensor(probe, MEAN_KEY), tensor(probe, STD_KEY)
    images = inputs["mean_std_images"]
    return mean.dim() == 0 and std.dim() == 0 and close(mean, images.mean(), **MEAN) and close(std, images.std(), **STD)


def _per_image_means(images):
    return images.mean(dim=(1, 2, 3))


MS = ("mean_std_values", "mean_std_shape")
COMPUTE_MEAN_STD = [
    Mistake("mean_of_image_stds", MS, "the std is the mean of each image's own std",
            "pixels vary between images too: take the std over all pixels of all images at once.",
            _statistics(lambda x: x.mean(), lambda x: torch.stack([i.std() for i in x]).mean())),
    Mistake("std_of_image_means", MS, "the std is the spread of the images' mean brightness, not of the pixels",
            "take the std over all pixels of all images at once.",
            _statistics(lambda x: x.mean(), lambda x: _per_image_means(x).std())),
    Mistake("per_image_statistics", MS, "one mean and one std per image instead of one over the whole dataset",
            "reduce over every dimension, the images included (stack them, then .mean() and .std()).",
            _statistics(_per_image_means, lambda x: x.std(dim=(1, 2, 3)), shape=(12,))),
    Mistake("zero_dim_statistics", MS, "the values are right, but 0-dim tensors instead of shape (1,)",
            "return them with one element each, e.g. mean.reshape(1), as transforms.Normalize expects one per "
            "channel.", _zero_dim),
    Mistake("returns_placeholder", MS, "mean 0 and std 1 whatever the data, like a placeholder",
            "compute both from the dataset's pixels.",
            lambda p, i, q: all_zero(p, (MEAN_KEY,)) and bool(tensor(p, STD_KEY).eq(1).all())),
]


# normalize

def _channels(value, like):
    return torch.as_tensor(value, dtype=like.dtype).reshape(-1, 1, 1)


def _normalized_like(fn, calls=(keys.NORMALIZE.image, keys.NORMALIZE.batch, keys.NORMALIZE.half)):
    args = {keys.NORMALIZE.image: ("norm_image", "norm_mean", "norm_std"),
            keys.NORMALIZE.batch: ("norm_batch", "norm_mean", "norm_std")}

    def matches(probe, inputs, quiet):
        for key in calls:
            x, mean, std = ((inputs[args[key][0]], inputs[args[key][1]], inputs[args[key][2]]) if key in args
                            else (inputs["unit_image"], 0.5, 0.5))
            if not close(tensor(probe, key), fn(x, mean, std), **ELEMENTWISE):
                return False
        return True
    return matches


def _no_channel_axis(probe, inputs, quiet):
    def plain(x, mean, std):
        return (x - torch.as_tensor(mean)) / torch.as_tensor(std)

    try:
        expected = plain(inputs["norm_image"], inputs["norm_mean"], inputs["norm_std"])
    except RuntimeError:
        return raised(probe, keys.NORMALIZE.image, "RuntimeError", "must match the size")
    return close(tensor(probe, keys.NORMALIZE.image), expected, **ELEMENTWISE)


def _batch_only(probe, inputs, quiet):
    x, mean, std = inputs["norm_image"], inputs["norm_mean"], inputs["norm_std"]
    expected = ((x - _channels(mean, x)) / _channels(std, x)).unsqueeze(0)
    return close(tensor(probe, keys.NORMALIZE.image), expected, **ELEMENTWISE)


NORM = ("normalize_single_image", "normalize_batch", "normalize_half_maps_to_unit_range")
NORMALIZE = [
    Mistake("mean_std_swapped", NORM, "mean and std are swapped: (x - std) / mean",
            "normalizing subtracts the mean, then divides by the std.",
            _normalized_like(lambda x, m, s: (x - _channels(s, x)) / _channels(m, x),
                             calls=(keys.NORMALIZE.image, keys.NORMALIZE.batch))),
    Mistake("divides_before_subtracting", NORM, "x / std - mean: the division comes before the subtraction",
            "compute (x - mean) / std, with the parentheses.",
            _normalized_like(lambda x, m, s: x / _channels(s, x) - _channels(m, x))),
    Mistake("batch_only_broadcast", NORM, "the values are right, but a single image [C, H, W] comes back with an "
            "extra batch dimension", "reshape mean and std to (-1, 1, 1) so they broadcast over [C, H, W] and "
            "[N, C, H, W] alike.", _batch_only),
    Mistake("no_channel_axis", NORM, "mean and std are not reshaped to (C, 1, 1), so they line up with the last "
            "dimension (the width) instead of the channels", "reshape them: torch.as_tensor(mean).reshape(-1, 1, 1).",
            _no_channel_axis),
    Mistake("returns_zeros", NORM, "the function returns zeros whatever the image, like a placeholder",
            "compute (x - mean) / std.",
            lambda p, i, q: all_zero(p, (keys.NORMALIZE.image, keys.NORMALIZE.batch, keys.NORMALIZE.half))),
    Mistake("mean_std_ignored", NORM, "the mean and std passed in are ignored: every image is normalized with "
            "0.5 and 0.5, right only when those are the values given", "use the mean and std arguments: "
            "(x - mean) / std, each reshaped to (-1, 1, 1).",
            _normalized_like(lambda x, m, s: (x - 0.5) / 0.5, calls=(keys.NORMALIZE.image, keys.NORMALIZE.batch))),
]


# make_transform

def _transformed_like(*steps):
    """Whether the probe's outputs are the transform images through torchvision's `steps` (each a function of the
    transforms module, mean and std; torchvision is imported here only, where such a mistake is looked for)."""
    def matches(probe, inputs, quiet):
        from torchvision import transforms

        mean, std = tuple(inputs["transform_mean"].tolist()), tuple(inputs["transform_std"].tolist())
        transform = transforms.Compose([step(transforms, mean, std) for step in steps])
        expected = torch.stack([transform(Image.fromarray(np.asarray(img.numpy(), dtype=np.uint8), mode="L"))
                                for img in inputs["transform_images"]])
        return close(tensor(probe, keys.MAKE_TRANSFORM.outputs), expected, **ELEMENTWISE)
    return matches


TF = ("make_transform_output",)
MAKE_TRANSFORM = [
    Mistake("normalize_before_to_tensor", TF, "Normalize comes before ToTensor, so it receives a PIL image",
            "ToTensor first (it also scales pixels to [0, 1]), then Normalize.",
            lambda p, i, q: raised(p, keys.MAKE_TRANSFORM.outputs, "TypeError", "Tensor")),
    Mistake("mean_std_swapped", TF, "Normalize gets std and mean in the wrong order",
            "transforms.Normalize(mean, std): the mean comes first.",
            _transformed_like(lambda t, m, s: t.ToTensor(), lambda t, m, s: t.Normalize(s, m))),
    Mistake("normalize_missing", TF, "the images are converted to tensors but never normalized",
            "add transforms.Normalize(mean, std) after ToTensor().",
            _transformed_like(lambda t, m, s: t.ToTensor())),
    Mistake("returns_zeros", TF, "the transform returns zeros whatever the image, like a placeholder",
            "compose ToTensor() and Normalize(mean, std).",
            lambda p, i, q: all_zero(p, (keys.MAKE_TRANSFORM.outputs,))),
]


# binary_cross_entropy

def _bce_like(fn):
    return lambda p, i, q: returned(p, keys.BINARY_CROSS_ENTROPY.values, fn(i["bce_p"], i["bce_y"]), BCE)


def _clamped_logs(p):
    return torch.clamp(torch.log(p), min=-100), torch.clamp(torch.log(1 - p), min=-100)


def _unclamped(probe, inputs, quiet):
    extremes = tensor(probe, keys.BINARY_CROSS_ENTROPY.extremes)
    p, y = inputs["bce_p"], inputs["bce_y"]
    reference = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    return (not bool(torch.isfinite(extremes).all())
            and returned(probe, keys.BINARY_CROSS_ENTROPY.values, reference, BCE))


BCE_CHECKS = ("bce_values", "bce_finite_at_extremes", "bce_gradient")
BINARY_CROSS_ENTROPY = [
    Mistake("bce_sign_slip", BCE_CHECKS, "the sign slip of the lecture's formula: y log p - (1 - y) log(1 - p)",
            "both terms count against the model: -(y log p + (1 - y) log(1 - p)), averaged.",
            _bce_like(lambda p, y: -(y * _clamped_logs(p)[0] - (1 - y) * _clamped_logs(p)[1]).mean())),
    Mistake("sum_instead_of_mean", BCE_CHECKS, "the per-sample losses are summed instead of averaged",
            "use .mean() over the samples.",
            _bce_like(lambda p, y: -(y * _clamped_logs(p)[0] + (1 - y) * _clamped_logs(p)[1]).sum())),
    Mistake("log_not_clamped", BCE_CHECKS, "log(0) = -inf is not clamped, so a confident wrong prediction gives an "
            "infinite (or NaN) loss", "clamp the logs, e.g. torch.clamp(torch.log(p), min=-100), as PyTorch does.",
            _unclamped),
    Mistake("returns_zeros", BCE_CHECKS, "the loss is zero whatever p and y, like a placeholder",
            "compute -(y log p + (1 - y) log(1 - p)), averaged.",
            lambda p, i, q: all_zero(p, (keys.BINARY_CROSS_ENTROPY.values,))),
]


# MNISTModel: the forward pass with the grader's weights

def _mlp(inputs, x, hidden=torch.relu):
    h = x.reshape(x.shape[0], -1) @ inputs["mm_w1"].T + inputs["mm_b1"]
    return hidden(h) @ inputs["mm_w2"].T + inputs["mm_b2"]


def _logits_like(fn):
    return lambda p, i, q: close(tensor(p, keys.MNIST_MODEL.images), fn(i, i["mm_x"]), **LOGITS)


def _wrong_layer_sizes(probe, inputs, quiet):
    layers = probe.note(keys.MNIST_MODEL.layers) or {}
    return layers.get("fc1", [None])[0] == "Linear" and (
        layers.get("fc1") != ["Linear", [512, 784]] or layers.get("fc2") != ["Linear", [10, 512]])


MM = ("mnist_model_architecture", "mnist_model_logits", "mnist_model_flattens_any_batch")
MNIST_MODEL = [
    Mistake("softmax_in_forward", MM, "forward applies softmax, but CrossEntropyLoss expects raw logits (it applies "
            "log-softmax itself)", "return fc2's output as it is.",
            _logits_like(lambda i, x: torch.softmax(_mlp(i, x), dim=1))),
    Mistake("missing_relu", MM, "no ReLU between fc1 and fc2, so the two layers collapse into one linear map",
            "apply self.relu to fc1's output.", _logits_like(lambda i, x: _mlp(i, x, hidden=lambda h: h))),
    Mistake("squeeze_drops_batch", MM, "squeeze() also removes the batch dimension of a batch of one image",
            "flatten with x.reshape(x.shape[0], -1) or x.flatten(1), which keep the batch dimension.",
            lambda p, i, q: close(tensor(p, keys.MNIST_MODEL.images), _mlp(i, i["mm_x"]), **LOGITS)
            and raised(p, keys.MNIST_MODEL.one_image, "RuntimeError", "cannot be multiplied")),
    Mistake("fixed_batch_size", MM, "forward reshapes to a fixed batch size, so other batch sizes fail",
            "use x.reshape(x.shape[0], -1): the batch size comes from the input.",
            lambda p, i, q: raised(p, keys.MNIST_MODEL.images, "RuntimeError", "is invalid for input of size")),
    Mistake("layer_sizes", MM, "fc1 and fc2 have other sizes than 784 -> 512 -> 10",
            "use nn.Linear(784, 512) and nn.Linear(512, 10).", _wrong_layer_sizes),
    Mistake("returns_zeros", MM, "the model returns zeros whatever the image, like a placeholder",
            "return fc2(relu(fc1(flattened x))).",
            lambda p, i, q: all_zero(p, (keys.MNIST_MODEL.images, keys.MNIST_MODEL.flat))),
]


# make_loaders

def _train_in_order(probe, inputs, quiet):
    order = tensor(probe, item(keys.MAKE_LOADERS.train_order(1), 0), LOADER_TRAIN)
    return order.flatten().tolist() == inputs["loader_train_items"].tolist()


def _test_shuffled(probe, inputs, quiet):
    order = tensor(probe, item(keys.MAKE_LOADERS.test_order, 0), LOADER_TEST).flatten().tolist()
    items = inputs["loader_test_items"].tolist()
    return sorted(order) == sorted(items) and order != items


def _batch_size_ignored(probe, inputs, quiet):
    small = probe.note(keys.MAKE_LOADERS.small_test_sizes)
    return isinstance(small, list) and small == probe.note(keys.MAKE_LOADERS.test_sizes) and small[:1] == [64]


def _drops_last(probe, inputs, quiet):
    sizes = probe.note(keys.MAKE_LOADERS.train_sizes(1))
    return (isinstance(sizes, list) and sizes and set(sizes) == {64} and sum(sizes) < LOADER_TRAIN
            and sum(probe.note(keys.MAKE_LOADERS.test_sizes) or []) < LOADER_TEST)


ML = ("make_loaders_shuffles_training", "make_loaders_keeps_test_order")
MAKE_LOADERS = [
    Mistake("train_not_shuffled", ML, "the training loader keeps the dataset's order every epoch",
            "pass shuffle=True to the training DataLoader.", _train_in_order),
    Mistake("test_shuffled", ML, "the test loader shuffles", "evaluation needs no shuffling: shuffle=False "
            "(the default) for the test DataLoader keeps results reproducible.", _test_shuffled),
    Mistake("batch_size_ignored", ML, "the batch_size argument is ignored (batches of 64 whatever it says)",
            "pass batch_size=batch_size to both DataLoaders.", _batch_size_ignored),
    Mistake("drop_last", ML, "drop_last=True throws away the last, partial batch",
            "keep every sample: leave drop_last at its default, False.", _drops_last),
]


# train_epoch: one epoch of the grader's MLP, replayed with the mistake

def _epoch(inputs, *, zero: bool = True, step: bool = True) -> tuple[torch.Tensor, list[tuple[float, int]]]:
    net = probe_mlp(inputs)
    optimizer = torch.optim.SGD(net.parameters(), lr=PROBE_LR)
    loss_fn, losses = nn.CrossEntropyLoss(), []
    net.train()
    for images, labels in probe_batches(inputs):
        if zero:
            optimizer.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        if step:
            optimizer.step()
        losses.append((loss.item(), len(labels)))
    return torch.cat([p.detach().flatten() for p in net.parameters()]), losses


def _epoch_params_like(**options):
    return lambda p, i, q: close(tensor(p, keys.TRAIN_EPOCH.params), _epoch(i, **options)[0], **EPOCH)


def _epoch_returns(summary):
    def matches(probe, inputs, quiet):
        params, losses = _epoch(inputs)
        return (close(tensor(probe, keys.TRAIN_EPOCH.params), params, **EPOCH)
                and returned(probe, keys.TRAIN_EPOCH.returned, summary(losses), EPOCH))
    return matches


def _epoch_never_changes(probe, inputs, quiet):
    initial = torch.cat([p.detach().flatten() for p in probe_mlp(inputs).parameters()])
    return close(tensor(probe, keys.TRAIN_EPOCH.params), initial, **EXACT)


def _graph_returned(probe, inputs, quiet):
    entry = probe.meta.get(keys.TRAIN_EPOCH.returned, {})
    return entry.get("kind") == "tensor" and bool(entry.get("has_grad_fn"))


TE = ("train_epoch_updates_like_reference", "train_epoch_returns_mean_loss", "train_epoch_returns_a_python_float")
TRAIN_EPOCH = [
    Mistake("gradients_not_zeroed", TE, "the gradients are never zeroed, so each batch's gradient is added to all "
            "earlier ones", "call optimizer.zero_grad() before loss.backward() for every batch.",
            _epoch_params_like(zero=False)),
    Mistake("params_never_change", TE, "the model's parameters come back exactly as they went in",
            "call optimizer.step() after loss.backward() for every batch.", _epoch_never_changes),
    Mistake("returns_last_batch_loss", TE, "the loss of the last batch only is returned",
            "add up loss.item() * len(labels) over the batches and divide by the number of samples.",
            _epoch_returns(lambda losses: losses[-1][0])),
    Mistake("mean_of_batch_means", TE, "the mean of the batches' mean losses, which gives the smaller last batch "
            "as much weight as a full one", "weight each batch's loss by its size: sum loss.item() * len(labels), "
            "divide by the number of samples.",
            _epoch_returns(lambda losses: sum(loss for loss, _ in losses) / len(losses))),
    Mistake("returns_graph_tensor", TE, "a tensor that holds the autograd graph of every batch is returned",
            "accumulate loss.item() (a Python float), not the loss tensor.", _graph_returned),
]


# validate: the reference's arithmetic, replayed with the mistake

def _validate(inputs, case="plain", *, eval_mode=True, no_grad=True, mode="samples") -> tuple[float, float]:
    net = validate_model(inputs, case)
    if eval_mode:
        net.eval()
    loss_fn, loader = nn.CrossEntropyLoss(), validate_batches(inputs, case)
    total, correct, count, batches = 0.0, 0.0, 0, 0
    with torch.set_grad_enabled(not no_grad):
        for images, labels in loader:
            if mode == "skip_partial" and len(labels) < loader.batch_size:
                break
            outputs = net(images)
            loss = loss_fn(outputs, labels).item()
            right = (outputs.argmax(dim=1) == labels).sum().item()
            batches += 1
            if mode == "batch_means":
                total, correct = total + loss, correct + right / len(labels)
            elif mode == "full_batches":
                total, correct, count = total + loss * loader.batch_size, correct + right, count + loader.batch_size
            else:
                total, correct, count = total + loss * len(labels), correct + right, count + len(labels)
    return (total / batches, correct / batches) if mode == "batch_means" else (total / count, correct / count)


def _validated_like(key: str = keys.VALIDATE.returned, tol=EPOCH, case: str = "plain", **options):
    """validate's (loss, accuracy) under `key`, where the probe lent the model and loader of `case`
    (inputs.VALIDATE_CASES), is the reference's with the mistake (`options`)."""
    def matches(probe, inputs, quiet):
        loss, accuracy = _validate(inputs, case, **options)
        return returned(probe, item(key, 0), loss, tol) and returned(probe, item(key, 1), accuracy, FRACTION)
    return matches


def _validate_trains(probe, inputs, quiet):
    before = torch.cat([p.detach().flatten() for p in validate_model(inputs, "plain").parameters()])
    after = tensor(probe, keys.VALIDATE.params_after)
    return after.shape == before.shape and not torch.equal(after, before)


def _left_in_eval_mode(probe, inputs, quiet):
    left = probe.note(keys.VALIDATE.modules_in_eval_mode)
    return (isinstance(left, int) and left > 0
            and probe.meta.get(keys.VALIDATE.train_mask, {}).get("kind") in ("tuple", "list"))


VAL = ("validate_loss_and_accuracy", "validate_uses_eval_mode", "validate_builds_no_graph",
       "validate_leaves_parameters_unchanged", "validate_restores_train_mode")
VALIDATE = [
    Mistake("mean_of_batch_means", VAL, "the mean of the batches' mean loss and accuracy, which gives the smaller "
            "last batch as much weight as a full one", "weight each batch by its size: sum loss.item() * "
            "len(labels) and the number of correct predictions, divide by the number of samples.",
            _validated_like(mode="batch_means")),
    Mistake("skips_last_batch", VAL, "the last, partial batch is skipped", "count every batch, whatever its size.",
            _validated_like(mode="skip_partial")),
    Mistake("counts_full_batches", VAL, "every batch is counted as a full one (loader.batch_size), the last "
            "partial one too", "count the samples each batch really has: len(labels).",
            _validated_like(mode="full_batches")),
    Mistake("eval_mode_forgotten", VAL, "the model is evaluated in train mode, so dropout is still active",
            "call model.eval() before evaluating.",
            _validated_like(keys.VALIDATE.train_mask, SAME_MODEL, "train_mask", eval_mode=False)),
    Mistake("no_grad_forgotten", VAL, "the forward passes run with gradients enabled and build autograd graphs",
            "evaluate inside `with torch.no_grad():`.",
            _validated_like(keys.VALIDATE.grad_offset, SAME_MODEL, "grad_offset", no_grad=False)),
    Mistake("validate_trains", VAL, "validate changes the model's parameters (a backward pass and an optimizer step)",
            "evaluation only measures: no loss.backward(), no optimizer.", _validate_trains),
    Mistake("train_mode_not_restored", VAL, "the model is left in eval mode afterwards",
            "call model.train() before returning, so training goes on with dropout.",
            _left_in_eval_mode),
    Mistake("uses_global_name", VAL, "validate reads a name that is not one of its arguments (a global of your "
            "notebook, absent when grading)", "loop over the `loader` argument and use only what is passed in.",
            lambda p, i, q: raised(p, keys.VALIDATE.returned, "NameError")),
    Mistake("returns_zeros", VAL, "loss and accuracy are zero whatever the model, like a placeholder",
            "compute them over the loader's batches.",
            lambda p, i, q: all_zero(p, (item(keys.VALIDATE.returned, 0), item(keys.VALIDATE.returned, 1)))),
]


# training_loop

# training_loop returns three lists (train losses, validation losses, accuracies) of one entry per epoch.
LOOP_ENTRIES = [item(keys.TRAINING_LOOP.returned, i, e) for i in range(3) for e in range(LOOP_EPOCHS)]


def _entries(probe):
    return [probe.meta.get(key, {}) for key in LOOP_ENTRIES]


TL = ("training_loop_returns_per_epoch_values", "training_loop_returns_plain_numbers")
TRAINING_LOOP = [
    Mistake("returns_tensors", TL, "the lists hold tensors instead of Python floats",
            "append plain numbers (train_epoch and validate return floats; use .item() on a tensor).",
            lambda p, i, q: any(e.get("kind") == "tensor" for e in _entries(p))),
    Mistake("validate_before_train", TL, "validate runs before train_epoch in each epoch",
            "train first, then validate, so each epoch's validation sees that epoch's training.",
            lambda p, i, q: (p.note(keys.TRAINING_LOOP.calls) or [])[:2] == ["validate", "train_epoch"]),
    Mistake("one_epoch_short", TL, "the loop runs one epoch fewer than `epochs` (range(1, epochs))",
            "loop over range(epochs).",
            lambda p, i, q: p.meta.get(item(keys.TRAINING_LOOP.returned, 0), {}).get("length") == LOOP_EPOCHS - 1),
    Mistake("returns_zeros", TL, "the lists hold zeros, like a placeholder",
            "call train_epoch and validate once per epoch and keep what they return.",
            lambda p, i, q: all_zero(p, LOOP_ENTRIES)),
]


# shift_pixels

SHIFT_CALLS = ((keys.SHIFT_PIXELS.image, "shift_image", 3), (keys.SHIFT_PIXELS.batch, "shift_batch", 5),
               (keys.SHIFT_PIXELS.default, "shift_image", 3))


def _shifted_like(*variants):
    def matches(probe, inputs, quiet):
        return any(all(close(tensor(probe, key), variant(inputs[image], shift), **EXACT)
                       for key, image, shift in SHIFT_CALLS) for variant in variants)
    return matches


SP = ("shift_pixels_values",)
SHIFT_PIXELS = [
    Mistake("roll_wrong_dims", SP, "the roll shifts other dimensions than height and width",
            "roll over the last two dimensions, dims=(-2, -1), which works for an image and a batch alike.",
            _shifted_like(*(lambda t, s, d=dims: torch.roll(t, (s, s), d) for dims in ((1, 2), (0, 1), (0, 2))))),
    Mistake("roll_wrong_direction", SP, "the pixels move up and left instead of down and right",
            "use positive shifts: torch.roll(t, (shift, shift), dims=(-2, -1)).",
            _shifted_like(lambda t, s: torch.roll(t, (-s, -s), (-2, -1)))),
    Mistake("roll_flattened", SP, "torch.roll without dims shifts the flattened tensor",
            "pass dims=(-2, -1) and one shift per dimension.", _shifted_like(lambda t, s: torch.roll(t, s))),
    Mistake("roll_one_axis", SP, "only one axis is shifted", "shift down and right: shifts=(shift, shift), "
            "dims=(-2, -1).", _shifted_like(lambda t, s: torch.roll(t, s, -2), lambda t, s: torch.roll(t, s, -1))),
    Mistake("returns_zeros", SP, "the function returns zeros whatever the image, like a placeholder",
            "use torch.roll.", lambda p, i, q: all_zero(p, tuple(key for key, _, _ in SHIFT_CALLS))),
]


# Mistakes by the grade_id of the graded cell (and probe) whose checks they explain.
MISTAKES: dict[str, list[Mistake]] = {
    keys.COMPUTE_MEAN_STD.grade_id: COMPUTE_MEAN_STD,
    keys.NORMALIZE.grade_id: NORMALIZE,
    keys.MAKE_TRANSFORM.grade_id: MAKE_TRANSFORM,
    keys.BINARY_CROSS_ENTROPY.grade_id: BINARY_CROSS_ENTROPY,
    keys.MNIST_MODEL.grade_id: MNIST_MODEL,
    keys.MAKE_LOADERS.grade_id: MAKE_LOADERS,
    keys.TRAIN_EPOCH.grade_id: TRAIN_EPOCH,
    keys.VALIDATE.grade_id: VALIDATE,
    keys.TRAINING_LOOP.grade_id: TRAINING_LOOP,
    keys.SHIFT_PIXELS.grade_id: SHIFT_PIXELS,
}
