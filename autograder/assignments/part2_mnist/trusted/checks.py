"""Hidden checks of part2_mnist. Each test is one check of course_config.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from autograder.assignments.part2_mnist.child import keys
from autograder.assignments.part2_mnist.child.inputs import (
    LOADER_SMALL_BATCH,
    LOADER_TEST,
    LOADER_TRAIN,
    LOOP_EPOCHS,
    PROBE_LR,
    VALIDATE_AFTER_SAMPLES,
    loop_standins,
    normalized,
    probe_batches,
    probe_mlp,
    validate_batches,
    validate_model,
)
from autograder.assignments.probing import lent
from autograder.calibration import threshold_for
from autograder.expect import CheckFailed, expect, expect_close, expect_equal, expect_gradient, expect_shape
from autograder.sandbox.recorder import item
from solutions import part2_mnist as ref

# Elementwise float32 arithmetic written another way ((x - m) / s, x.sub(m).div(s)): a few ulps.
ELEMENTWISE = dict(rtol=1e-5, atol=1e-6)
# Means over 9,408 pixels in another summation order: relative error well below 1e-5. The std
# may be the unbiased (n - 1) or biased (n) one: they differ by sqrt(n / (n - 1)) - 1 = 5.3e-5
# here, so 1e-4 admits both while a per-image statistic is off by more than 1e-2.
MEAN = dict(rtol=1e-5, atol=1e-6)
STD = dict(rtol=1e-4, atol=1e-6)
# Logs of probabilities in [0.02, 0.98]: clamping or adding eps <= 1e-7 changes each term by at
# most 5e-6, far below a sign slip (order 1).
BCE = dict(rtol=1e-4, atol=1e-5)
# Float64 gradients at p in [0.05, 0.95]: the same formula rounds differently by ~1e-15, but the
# eps <= 1e-7 that BCE admits, added inside the logs, scales the terms 1/p and 1/(1 - p) by
# 1 / (1 + eps / p): up to 1e-7 / 0.05 = 2e-6 relative (rtol 1e-6 failed such correct code on
# some seeds). 1e-5 admits it; a sign slip or a sum instead of a mean is off by order 1.
BCE_GRADIENT = dict(rtol=1e-5, atol=1e-7)
# The 784-wide dot products of the MLP in float32: differences from summation order ~1e-6.
LOGITS = dict(rtol=1e-4, atol=1e-5)
# One epoch of SGD over 5 batches: rounding differences stay ~1e-6; a missing zero_grad or step
# changes parameters by ~1e-2.
EPOCH = dict(rtol=1e-4, atol=1e-5)
# validate on a model with a train-mode-only or grad-mode-only layer added: a correct validate
# does the same arithmetic as the reference on that model (those layers return their input), so
# its results are identical; 1e-6 only absorbs a validate that sums in a nondeterministic order.
# The layers move the loss by more than 0.05 when active (tests/test_inputs.py pins that).
SAME_MODEL = dict(rtol=1e-6, atol=1e-7)
# Accuracy is a count over 150 samples; as a float it must match to rounding.
FRACTION = dict(rtol=0.0, atol=1e-9)
# A confident wrong prediction costs -log(p) with p clamped to at least e^-100 (PyTorch) or an
# eps up to 1e-3 (-log(1e-3) = 6.9); the mean over two such samples must be at least 5,
# and perfect predictions must cost at most 1e-3.
EXTREME_MIN_LOSS = 5.0
PERFECT_MAX_LOSS = 1e-3
# training_loop's lists hold what the grader's stand-ins returned: the same floats, computed the
# same way on both sides; 1e-6 only absorbs a student who converts them through float32.
STANDIN_VALUES = dict(rtol=1e-6, atol=1e-6)
# Checks of structure (types, shapes, layers, modes) pass on what any code can return; each
# earns its points only together with a value check of the same call (`requires`, see autograder.suite.gated).
requires = pytest.mark.requires


def _pair(probe, key: str, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    info = probe.info(key, what)
    expect(info.get("kind") in ("tuple", "list") and info.get("length") == 2,
           f"{what}: expected two values (mean, std), got {info.get('type') or info.get('kind')}")
    return probe.tensor(item(key, 0), f"{what}: the mean"), probe.tensor(item(key, 1), f"{what}: the std")


# compute_mean_std

def test_mean_std_values(evidence, inputs):
    what = "compute_mean_std on 12 images of different brightness"
    mean, std = _pair(evidence.probe(keys.COMPUTE_MEAN_STD.grade_id), keys.COMPUTE_MEAN_STD.returned, what)
    dataset = [(img, 0) for img in inputs["mean_std_images"]]
    ref_mean, ref_std = ref.compute_mean_std(dataset)
    expect(mean.numel() == 1 and std.numel() == 1,
           f"{what}: expected one mean and one std over all pixels of all images, got shapes "
           f"{tuple(mean.shape)} and {tuple(std.shape)}")
    expect_close(mean.reshape(1), ref_mean, f"{what}: the mean", **MEAN)
    expect_close(std.reshape(1), ref_std, f"{what}: the std", **STD)


@requires("mean_std_values")
def test_mean_std_shape(evidence):
    what = "compute_mean_std"
    mean, std = _pair(evidence.probe(keys.COMPUTE_MEAN_STD.grade_id), keys.COMPUTE_MEAN_STD.returned, what)
    expect_shape(mean, (1,), f"{what}: the mean")
    expect_shape(std, (1,), f"{what}: the std")


# normalize

def test_normalize_single_image(evidence, inputs):
    what = "normalize on one image [3, 5, 6] with per-channel mean and std"
    out = evidence.probe(keys.NORMALIZE.grade_id).tensor(keys.NORMALIZE.image, what)
    expect_close(out, ref.normalize(inputs["norm_image"], inputs["norm_mean"], inputs["norm_std"]), what,
                 **ELEMENTWISE)


def test_normalize_batch(evidence, inputs):
    what = "normalize on a batch [4, 3, 5, 6] with per-channel mean and std"
    out = evidence.probe(keys.NORMALIZE.grade_id).tensor(keys.NORMALIZE.batch, what)
    expect_close(out, ref.normalize(inputs["norm_batch"], inputs["norm_mean"], inputs["norm_std"]), what,
                 **ELEMENTWISE)


@requires("normalize_single_image")
def test_normalize_half_maps_to_unit_range(evidence, inputs):
    what = "normalize(image, 0.5, 0.5) on an image in [0, 1]"
    out = evidence.probe(keys.NORMALIZE.grade_id).tensor(keys.NORMALIZE.half, what)
    expect_close(out, inputs["unit_image"] * 2 - 1, what, **ELEMENTWISE)


# make_transform

def test_make_transform_output(evidence, inputs):
    what = "make_transform(mean, std) applied to 5 PIL images"
    out = evidence.probe(keys.MAKE_TRANSFORM.grade_id).tensor(keys.MAKE_TRANSFORM.outputs, what)
    transform = ref.make_transform(tuple(inputs["transform_mean"].tolist()), tuple(inputs["transform_std"].tolist()))
    expected = torch.stack([transform(Image.fromarray(np.asarray(img.numpy(), dtype=np.uint8), mode="L"))
                            for img in inputs["transform_images"]])
    expect_close(out, expected, what, **ELEMENTWISE)


# binary_cross_entropy

def test_bce_values(evidence, inputs):
    what = "binary_cross_entropy on 50 probabilities in [0.02, 0.98]"
    out = evidence.probe(keys.BINARY_CROSS_ENTROPY.grade_id).tensor(keys.BINARY_CROSS_ENTROPY.values, what)
    expect(out.numel() == 1, f"{what}: expected one mean loss, got shape {tuple(out.shape)}")
    expect_close(out.reshape(()), ref.binary_cross_entropy(inputs["bce_p"], inputs["bce_y"]), what, **BCE)


@requires("bce_values")
def test_bce_finite_at_extremes(evidence):
    k = keys.BINARY_CROSS_ENTROPY
    probe = evidence.probe(k.grade_id)
    what = "binary_cross_entropy(p=[0, 1], y=[1, 0]) (confidently wrong)"
    wrong = probe.tensor(k.extremes, what)
    expect(wrong.numel() == 1 and torch.isfinite(wrong).all(),
           f"{what}: expected a finite loss, got {wrong.flatten()[:2].tolist()}")
    expect(wrong.item() >= EXTREME_MIN_LOSS, f"{what}: expected a large loss (at least {EXTREME_MIN_LOSS}), "
           f"got {wrong.item():.4g}")
    what = "binary_cross_entropy(p=[0, 1], y=[0, 1]) (perfect)"
    perfect = probe.tensor(k.perfect, what)
    expect(perfect.numel() == 1 and torch.isfinite(perfect).all() and abs(perfect.item()) <= PERFECT_MAX_LOSS,
           f"{what}: expected a loss of about 0, got {perfect.flatten()[:2].tolist()}")


def test_bce_gradient(evidence, inputs):
    expect_gradient(evidence.probe(keys.BINARY_CROSS_ENTROPY.grade_id), "gradient of binary_cross_entropy with respect "
                    "to p", ref.binary_cross_entropy, inputs["bce_p64"], inputs["bce_y64"], **BCE_GRADIENT)


# MNISTModel

def _reference_mlp(inputs: dict) -> nn.Module:
    net = ref.MNISTModel()
    with torch.no_grad():
        net.fc1.weight.copy_(inputs["mm_w1"])
        net.fc1.bias.copy_(inputs["mm_b1"])
        net.fc2.weight.copy_(inputs["mm_w2"])
        net.fc2.bias.copy_(inputs["mm_b2"])
    return net.eval()


@requires("mnist_model_logits")
def test_mnist_model_architecture(evidence):
    k = keys.MNIST_MODEL
    probe = evidence.probe(k.grade_id)
    info = probe.info(k.net, "MNISTModel()")
    layers = probe.note(k.layers)
    expect(isinstance(layers, dict), f"MNISTModel(): expected an nn.Module, got {info.get('type') or info.get('kind')}")
    for name, shape in (("fc1", [512, 784]), ("fc2", [10, 512])):
        expect(layers.get(name) == ["Linear", shape],
               f"MNISTModel().{name}: expected nn.Linear with weight shape {tuple(shape)}, got {layers.get(name)}")
    count = probe.note(k.parameters)
    expect(count == 784 * 512 + 512 + 512 * 10 + 10,
           f"MNISTModel(): expected {784 * 512 + 512 + 512 * 10 + 10} parameters (784-512-10), got {count}")


def test_mnist_model_logits(evidence, inputs):
    k = keys.MNIST_MODEL
    probe = evidence.probe(k.grade_id)
    what = "MNISTModel with the grader's weights on 5 images [5, 1, 28, 28]"
    probe.info(k.net, "MNISTModel()")
    if not probe.note(k.loaded):
        raise CheckFailed(f"{what}: fc1 and fc2 must be Linear(784, 512) and Linear(512, 10) "
                          "for the grader to load its weights")
    with torch.no_grad():
        expected = _reference_mlp(inputs)(inputs["mm_x"])
    expect_close(probe.tensor(k.images, what), expected, f"{what}: the raw logits", **LOGITS)


def test_mnist_model_flattens_any_batch(evidence, inputs):
    k = keys.MNIST_MODEL
    probe = evidence.probe(k.grade_id)
    probe.info(k.net, "MNISTModel()")
    model = _reference_mlp(inputs)
    for key, x in ((k.images, inputs["mm_x"]), (k.flat, inputs["mm_x"].reshape(5, 784)),
                   (k.one_image, inputs["mm_x_one"]), (k.one_flat, inputs["mm_x_one"].reshape(1, 784))):
        what = f"MNISTModel with the grader's weights on input of shape {tuple(x.shape)}"
        if not probe.note(k.loaded):
            raise CheckFailed(f"{what}: fc1 and fc2 must be Linear(784, 512) and Linear(512, 10) "
                              "for the grader to load its weights")
        out = probe.tensor(key, what)
        expect_shape(out, (x.shape[0], 10), what)
        with torch.no_grad():
            expect_close(out, model(x), f"{what}: the raw logits", **LOGITS)


# make_loaders

def _batches_of(probe, key: str, what: str, count: int) -> list[int]:
    """The samples a loader gave, in order, as numbers (after checking there are `count` of them)."""
    probe.info(key, what)
    return probe.tensor(item(key, 0), what, numel=count).flatten().tolist()


def test_make_loaders_shuffles_training(evidence, inputs):
    k = keys.MAKE_LOADERS
    probe = evidence.probe(k.grade_id)
    items = inputs["loader_train_items"].tolist()
    orders = []
    for epoch in (1, 2):
        what = f"the training loader of make_loaders on a list of {LOADER_TRAIN} samples, epoch {epoch}"
        order = _batches_of(probe, k.train_order(epoch), what, LOADER_TRAIN)
        expect(sorted(order) == sorted(items), f"{what}: expected every sample of the training set exactly once")
        expect(probe.note(k.train_sizes(epoch)) == [64, LOADER_TRAIN - 64],
               f"{what}: expected batches of 64 (the default) and {LOADER_TRAIN - 64}, "
               f"got {probe.note(k.train_sizes(epoch))}")
        orders.append(order)
    expect(orders[0] != items and orders[0] != orders[1],
           "the training loader of make_loaders: expected a new random order every epoch (shuffle=True), "
           "got the samples " + ("in the training set's own order" if orders[0] == items else
                                 "in the same order in both epochs"))


@requires("make_loaders_shuffles_training")
def test_make_loaders_keeps_test_order(evidence, inputs):
    k = keys.MAKE_LOADERS
    probe = evidence.probe(k.grade_id)
    items = inputs["loader_test_items"].tolist()
    what = f"the test loader of make_loaders on a list of {LOADER_TEST} samples"
    order = _batches_of(probe, k.test_order, what, LOADER_TEST)
    expect(sorted(order) == sorted(items), f"{what}: expected every sample of the test set exactly once")
    wrong = next((i for i, (a, b) in enumerate(zip(order, items)) if a != b), None)
    expect(wrong is None, f"{what}: expected the samples in the test set's own order (shuffle=False); "
           f"sample {wrong} of the set came out at another position")
    expect(probe.note(k.test_sizes) == [64, LOADER_TEST - 64],
           f"{what}: expected batches of 64 and {LOADER_TEST - 64}, got {probe.note(k.test_sizes)}")
    small = [LOADER_SMALL_BATCH] * (LOADER_TEST // LOADER_SMALL_BATCH) + [LOADER_TEST % LOADER_SMALL_BATCH]
    expect(probe.note(k.small_test_sizes) == small,
           f"make_loaders(..., batch_size={LOADER_SMALL_BATCH}): expected test batches {small}, "
           f"got {probe.note(k.small_test_sizes)}")


# train_epoch

def _reference_epoch(inputs: dict) -> tuple[float, torch.Tensor]:
    net = probe_mlp(inputs)
    optimizer = torch.optim.SGD(net.parameters(), lr=PROBE_LR)
    loss = ref.train_epoch(net, probe_batches(inputs), optimizer, nn.CrossEntropyLoss())
    return loss, torch.cat([p.detach().flatten() for p in net.parameters()])


def test_train_epoch_updates_like_reference(evidence, inputs):
    what = f"train_epoch on the grader's MLP and 150 samples (SGD, lr {PROBE_LR}): the parameters after one epoch"
    probe = evidence.probe(keys.TRAIN_EPOCH.grade_id)
    probe.info(keys.TRAIN_EPOCH.returned, what)
    params = probe.tensor(keys.TRAIN_EPOCH.params, what)
    expect_close(params, _reference_epoch(inputs)[1], what, **EPOCH)


def _is_python_float(entry: dict) -> bool:
    """A Python number; numpy.float64 counts, being a subclass of float."""
    return entry.get("kind") == "number" and entry.get("type") in (None, "numpy.float64")


def _kind_of(entry: dict) -> str:
    if entry.get("has_grad_fn"):
        return "a tensor holding an autograd graph"
    if entry.get("kind") == "tensor":
        return f"a tensor of shape {tuple(entry.get('shape', ()))}"
    return entry.get("type") or entry.get("kind") or "nothing"


@requires("train_epoch_returns_mean_loss")
def test_train_epoch_returns_a_python_float(evidence):
    what = "train_epoch's return value"
    entry = evidence.probe(keys.TRAIN_EPOCH.grade_id).info(keys.TRAIN_EPOCH.returned, what)
    expect(_is_python_float(entry), f"{what}: expected a Python float (loss.item()), got {_kind_of(entry)}; "
           "a tensor kept across batches also keeps every batch's autograd graph in memory")


def test_train_epoch_returns_mean_loss(evidence, inputs):
    what = "train_epoch's return value (mean training loss over all 150 samples)"
    loss = evidence.probe(keys.TRAIN_EPOCH.grade_id).number(keys.TRAIN_EPOCH.returned, what)
    expect_close(torch.tensor(loss), torch.tensor(_reference_epoch(inputs)[0]), what, **EPOCH)


# validate

def _validate_result(probe, key: str, what: str) -> tuple[float, float]:
    info = probe.info(key, what)
    expect(info.get("kind") in ("tuple", "list") and info.get("length") == 2,
           f"{what}: expected (loss, accuracy), got {info.get('type') or info.get('kind')}")
    return probe.number(item(key, 0), f"{what}: the loss"), probe.number(item(key, 1), f"{what}: the accuracy")


def _reference_validate(inputs: dict, case: str) -> tuple[float, float]:
    """The reference validate on the model and loader the probe lent as `case` (inputs.VALIDATE_CASES)."""
    return ref.validate(validate_model(inputs, case), validate_batches(inputs, case), nn.CrossEntropyLoss())


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(abs(x - y) <= SAME_MODEL["atol"] + SAME_MODEL["rtol"] * abs(y) for x, y in zip(a, b))


def _show(result: tuple[float, float]) -> str:
    return f"loss {result[0]:.6g} and accuracy {result[1]:.6g}"


def test_validate_loss_and_accuracy(evidence, inputs):
    probe = evidence.probe(keys.VALIDATE.grade_id)
    for key, case, what in (
            (keys.VALIDATE.returned, "plain", "validate on 150 samples in batches of 32 (the last has 22)"),
            (keys.VALIDATE.offset_bias, "offset_bias", "validate on other samples and a model with other logits")):
        loss, accuracy = _validate_result(probe, key, what)
        ref_loss, ref_accuracy = _reference_validate(inputs, case)
        expect_close(torch.tensor(loss), torch.tensor(ref_loss), f"{what}: the mean loss over samples", **EPOCH)
        expect_close(torch.tensor(accuracy), torch.tensor(ref_accuracy), f"{what}: the accuracy (a fraction)",
                     **FRACTION)


@requires("validate_loss_and_accuracy")
def test_validate_uses_eval_mode(evidence, inputs):
    probe = evidence.probe(keys.VALIDATE.grade_id)
    what = "validate on the grader's model with a dropout layer added, passed in train mode"
    got = _validate_result(probe, keys.VALIDATE.train_mask, what)
    expected = _reference_validate(inputs, "train_mask")
    expect(_same(got, expected), f"{what}: expected {_show(expected)}, as without dropout, since eval mode turns "
           f"dropout off; got {_show(got)}: dropout was active (call model.eval() before evaluating)")


@requires("validate_loss_and_accuracy")
def test_validate_builds_no_graph(evidence, inputs):
    probe = evidence.probe(keys.VALIDATE.grade_id)
    what = "validate on the grader's model with a layer that shifts the logits while gradients are enabled"
    got = _validate_result(probe, keys.VALIDATE.grad_offset, what)
    expected = _reference_validate(inputs, "grad_offset")
    expect(_same(got, expected), f"{what}: expected {_show(expected)}, from forward passes under torch.no_grad(); "
           f"got {_show(got)}: the forward pass ran with gradients enabled and built an autograd graph")
    for key in (item(keys.VALIDATE.returned, 0), item(keys.VALIDATE.returned, 1)):
        info = probe.meta.get(key, {})
        expect(not info.get("has_grad_fn"), "validate: returned a tensor that holds an autograd graph")


@requires("validate_loss_and_accuracy")
def test_validate_restores_train_mode(evidence, inputs):
    k = keys.VALIDATE
    probe = evidence.probe(k.grade_id)
    what = "the grader's dropout model, passed to validate in train mode, run again afterwards"
    out = probe.tensor(k.output_after, what)
    x = inputs["te_x"][:VALIDATE_AFTER_SAMPLES]
    # The model as validate left it (whether it changed its parameters is another check's business).
    model = validate_model(inputs, "train_mask")
    params = probe.tensor(k.mask_params_after, what)
    expect_shape(params, (sum(p.numel() for p in model.parameters()),), f"{what}: its parameters")
    nn.utils.vector_to_parameters(params.float(), model.parameters())
    with torch.no_grad():
        in_train_mode, in_eval_mode = model.train()(x), model.eval()(x)
    left = probe.note(k.modules_in_eval_mode)
    expect(left == 0 and not torch.allclose(out, in_eval_mode, **LOGITS),
           f"{what}: {left or 'some'} of its modules were left in eval mode, so dropout would stay off for the "
           "rest of training (call model.train() before returning)")
    expect_close(out, in_train_mode, f"{what}: its output in train mode", **LOGITS)


@requires("validate_loss_and_accuracy")
def test_validate_leaves_parameters_unchanged(evidence, inputs):
    probe = evidence.probe(keys.VALIDATE.grade_id)
    what = "validate: the model's parameters"
    after = probe.tensor(keys.VALIDATE.params_after, what)
    before = torch.cat([p.detach().flatten() for p in validate_model(inputs, "plain").parameters()])
    expect(after.shape == before.shape and torch.equal(after, before),
           f"{what} changed; validation must not train (no backward, no optimizer step)")


# training_loop

def _reference_loop(inputs: dict) -> tuple[list[float], list[float], list[float]]:
    """The reference training_loop with the stand-ins the probe lent to the student's."""
    train_epoch, validate = loop_standins(inputs, [])
    with lent(vars(ref), train_epoch=train_epoch, validate=validate, print=lambda *a, **k: None):
        return ref.training_loop(probe_mlp(inputs), None, None, None, None, LOOP_EPOCHS)


def test_training_loop_returns_per_epoch_values(evidence, inputs):
    k = keys.TRAINING_LOOP
    probe = evidence.probe(k.grade_id)
    what = f"training_loop(..., epochs={LOOP_EPOCHS}) with the grader's train_epoch and validate"
    info = probe.info(k.returned, what)
    expect(info.get("kind") in ("tuple", "list") and info.get("length") == 3,
           f"{what}: expected (train_losses, val_losses, accuracies), got {info.get('type') or info.get('kind')}")
    calls = probe.note(k.calls) or []
    expect(calls == ["train_epoch", "validate"] * LOOP_EPOCHS,
           f"{what}: expected train_epoch then validate once per epoch, got calls {calls}")
    for i, (name, expected) in enumerate(zip(("train_losses", "val_losses", "accuracies"), _reference_loop(inputs))):
        entry = probe.info(item(k.returned, i), f"{what}: {name}")
        expect(entry.get("length") == LOOP_EPOCHS, f"{what}: {name} must have one entry per epoch "
               f"({LOOP_EPOCHS}), got {entry.get('length')}")
        got = [probe.number(item(k.returned, i, e), f"{what}: {name}[{e}]") for e in range(LOOP_EPOCHS)]
        expect_close(torch.tensor(got, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                     f"{what}: {name}, as the grader's train_epoch and validate returned them", **STANDIN_VALUES)


@requires("training_loop_returns_per_epoch_values")
def test_training_loop_returns_plain_numbers(evidence):
    k = keys.TRAINING_LOOP
    probe = evidence.probe(k.grade_id)
    what = "training_loop's lists"
    probe.info(k.returned, what)
    for i, name in enumerate(("train_losses", "val_losses", "accuracies")):
        for e in range(LOOP_EPOCHS):
            entry = probe.meta.get(item(k.returned, i, e), {})
            expect(_is_python_float(entry), f"{what}: {name}[{e}] must be a Python float (use .item()), "
                   f"got {_kind_of(entry)}")


# shift_pixels

def test_shift_pixels_values(evidence, inputs):
    k = keys.SHIFT_PIXELS
    probe = evidence.probe(k.grade_id)
    for key, image, shift in ((k.image, "shift_image", 3), (k.batch, "shift_batch", 5), (k.default, "shift_image", 3)):
        what = f"shift_pixels on shape {tuple(inputs[image].shape)}" + (f", shift={shift}" if key != k.default else "")
        expect_equal(probe.tensor(key, what), ref.shift_pixels(inputs[image], shift), what)


# the end-to-end accuracy check

TRAINED_LAYERS = {"fc1.weight": (512, 784), "fc1.bias": (512,), "fc2.weight": (10, 512), "fc2.bias": (10,)}


def accuracy_of(weights: dict[str, torch.Tensor], inputs: dict) -> float:
    """Test accuracy of trained fc1/fc2 weights in the reference MNISTModel, on the secret test set.

    Evaluated here, in the trusted process, on images the child never saw: only weights that
    classify digits earn the check, whatever the student's forward pass did.
    """
    model = ref.MNISTModel()
    with torch.no_grad():
        for name, value in weights.items():
            model.get_parameter(name).copy_(value)
        model.eval()
        images, labels = inputs["secret_test_images"], inputs["secret_test_labels"]
        correct = sum(int((model(normalized(chunk, inputs)).argmax(dim=1) == chunk_labels).sum())
                      for chunk, chunk_labels in zip(images.split(1000), labels.split(1000)))
    return correct / len(labels)


@requires("train_epoch_updates_like_reference", "mnist_model_logits")
def test_mnist_accuracy(evidence, inputs, config, record_property):
    k = keys.MNIST_ACCURACY
    probe = evidence.probe(k.grade_id)
    labels = inputs["secret_test_labels"]
    settings = config.assignment("part2_mnist").settings
    what = (f"your MNISTModel trained with your train_epoch ({settings['epochs']} epochs of SGD, lr "
            f"{settings['learning_rate']}, batch {settings['batch_size']}) on {len(inputs['acc_train_labels'])} "
            f"normalized {settings['dataset']} images")
    for epoch in range(settings["epochs"]):
        probe.info(k.epoch(epoch), f"{what}: epoch {epoch + 1}")
    weights = {}
    for name, shape in TRAINED_LAYERS.items():
        weights[name] = probe.tensor(k.trained(name), f"{what}: its trained {name}")
        expect_shape(weights[name], shape, f"{what}: its trained {name}")
        expect(bool(torch.isfinite(weights[name]).all()), f"{what}: its trained {name} holds NaN or infinite values")
    accuracy, threshold = accuracy_of(weights, inputs), threshold_for(config, "part2_mnist")
    record_property("accuracy", accuracy)  # CheckResult.measured: the class report lists every student's
    record_property("threshold", threshold)
    expect(accuracy >= threshold,
           f"{what}: expected at least {threshold:.1%} accuracy on {len(labels)} test images "
           f"(the trained weights evaluated by the grader), got {accuracy:.1%}")
