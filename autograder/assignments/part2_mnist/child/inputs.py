"""Inputs for part2_mnist's probes: images, weights, index datasets. The accuracy check's data (its training
images, and its test images and labels, which never enter the child) is added by trusted/hooks.py's data_inputs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch
from torch.utils.data import DataLoader, TensorDataset

if TYPE_CHECKING:  # the child imports this module (for the probe models), and never the config
    from ....config import CourseConfig

# train_epoch / validate: a small MLP, 150 samples in batches of 32 (the last batch has 22).
PROBE_BATCH = 32
PROBE_SAMPLES = 150
PROBE_HIDDEN = 32
PROBE_LR = 0.1
# The last, partial batch's images are this many times larger than the others: the lent MLP's logits on them are
# wider, so their mean cross-entropy is far from the full batches'. A mean of batch means, a skipped last batch or
# a count of full batches then misses the mean over samples by far more than the checks' tolerance, whatever the
# seed (tests/test_inputs.py measures the margin). With images alike, 1 seed in 40 let a mean of batch means pass.
PARTIAL_BATCH_SCALE = 5.0
# make_loaders: index datasets of these sizes, so the order of samples is visible.
LOADER_TRAIN, LOADER_TEST, LOADER_SMALL_BATCH = 100, 70, 16
# training_loop: epochs run with the grader's stand-in train_epoch and validate.
LOOP_EPOCHS = 3
# validate: samples the dropout model is run on afterwards, to see whether it is back in train mode.
VALIDATE_AFTER_SAMPLES = 8
# validate: the models it is lent, in the probe's order (see validate_model). Each comes with samples of its own
# and its hidden units permuted and scaled its own way, so no two calls have the same parameters, data or result.
VALIDATE_CASES = ("plain", "train_mask", "grad_offset", "offset_bias")


def make_inputs(config: CourseConfig, seed: int) -> dict[str, torch.Tensor]:
    """Every tensor the part2 probes need but the accuracy check's data, from one submission's seed
    (autograder.seeds)."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=dtype)

    def uniform(low: float, high: float, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=g, dtype=dtype)

    def probe_images(*leading: int) -> torch.Tensor:
        """PROBE_SAMPLES images per leading index, the last partial batch PARTIAL_BATCH_SCALE times larger."""
        images = randn(*leading, PROBE_SAMPLES, 1, 28, 28)
        images[..., PROBE_SAMPLES - PROBE_SAMPLES % PROBE_BATCH:, :, :, :] *= PARTIAL_BATCH_SCALE
        return images

    inputs = {
        # Images in [0, 1] whose brightness differs per image, so per-image statistics are wrong.
        "mean_std_images": torch.rand((12, 1, 28, 28), generator=g) * uniform(0.2, 1.0, 12, 1, 1, 1),
        "norm_image": torch.rand((3, 5, 6), generator=g),
        "norm_batch": torch.rand((4, 3, 5, 6), generator=g),
        "norm_mean": uniform(0.2, 0.8, 3),
        "norm_std": uniform(0.1, 0.5, 3),
        "unit_image": torch.rand((1, 28, 28), generator=g),
        "transform_images": torch.randint(0, 256, (5, 28, 28), generator=g, dtype=torch.uint8),
        "transform_mean": uniform(0.1, 0.2, 1),
        "transform_std": uniform(0.25, 0.35, 1),
        "bce_p": uniform(0.02, 0.98, 50),
        "bce_y": torch.randint(0, 2, (50,), generator=g).float(),
        "bce_extreme_p": torch.tensor([0.0, 1.0]),
        "bce_extreme_y": torch.tensor([1.0, 0.0]),
        "bce_perfect_p": torch.tensor([0.0, 1.0]),
        "bce_perfect_y": torch.tensor([0.0, 1.0]),
        "bce_p64": uniform(0.05, 0.95, 8, dtype=torch.float64),
        "bce_y64": torch.randint(0, 2, (8,), generator=g).double(),
        "mm_w1": randn(512, 784) * 0.05,
        "mm_b1": randn(512) * 0.05,
        "mm_w2": randn(10, 512) * 0.05,
        "mm_b2": randn(10) * 0.05,
        "mm_x": torch.rand((5, 1, 28, 28), generator=g),
        "mm_x_one": torch.rand((1, 1, 28, 28), generator=g),
        "te_x": probe_images(),
        "te_y": torch.randint(0, 10, (PROBE_SAMPLES,), generator=g),
        "te_w1": randn(PROBE_HIDDEN, 784) * 0.05,
        "te_b1": randn(PROBE_HIDDEN) * 0.05,
        "te_w2": randn(10, PROBE_HIDDEN) * 0.2,
        "te_b2": randn(10) * 0.2,
        # make_loaders: datasets of distinct values no one can predict, so the loaders' batches show
        # which samples they hold and in which order.
        "loader_train_items": torch.randperm(1 << 20, generator=g)[:LOADER_TRAIN],
        "loader_test_items": torch.randperm(1 << 20, generator=g)[:LOADER_TEST],
        # training_loop's stand-in train_epoch and validate (see loop_standins).
        "loop_step": randn(PROBE_HIDDEN, 784) * 0.01,
        "loop_train_weights": randn(PROBE_HIDDEN),
        "loop_val_weights": randn(PROBE_HIDDEN),
        "shift_image": randn(1, 28, 28),
        "shift_batch": randn(2, 1, 28, 28),
        # validate: the train-mode mask (dropout with p = 0.5, fixed) and the logit offset that
        # the grader's model applies when its forward pass runs with gradients enabled.
        "te_train_mask": (torch.rand((PROBE_HIDDEN,), generator=g) < 0.5).float() * 2,
        "te_grad_offset": randn(10) * 3,
        # validate: per lent model (VALIDATE_CASES), its samples and labels, and a permutation and positive
        # scale of the hidden units (an equivalent parameterisation of the same network).
        "va_x": probe_images(len(VALIDATE_CASES)),
        "va_y": torch.randint(0, 10, (len(VALIDATE_CASES), PROBE_SAMPLES), generator=g),
        "va_perm": torch.stack([torch.randperm(PROBE_HIDDEN, generator=g) for _ in VALIDATE_CASES]),
        "va_scale": uniform(0.5, 2.0, len(VALIDATE_CASES), PROBE_HIDDEN),
    }
    return inputs


def normalized(images: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """uint8 images [N, 28, 28] as the accuracy check feeds them: [N, 1, 28, 28], normalized."""
    return ((images.float() / 255 - inputs["acc_mean"]) / inputs["acc_std"]).unsqueeze(1)


class TrainingImages(TensorDataset):
    """The accuracy check's training set, (uint8 image, label) pairs as in a TensorDataset, whose batches a
    DataLoader takes in one indexing per tensor (__getitems__) instead of one per image and a stack: the same
    batches with the same values, 0.2 s less per epoch at 60,000 images (half of what the loading cost)."""

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        index = torch.as_tensor(indices)
        return [tensor[index] for tensor in self.tensors]


def training_loader(inputs: dict[str, torch.Tensor], generator: torch.Generator) -> DataLoader:
    """The accuracy check's training batches: its images and labels shuffled by `generator`, in batches of its
    batch size, each normalized as `normalized` would the whole set, without a float32 copy of every training
    image (188 MB and its temporaries at 60,000 images): the child's memory stays close to the uint8 images it
    is lent."""
    def collate(batch: list[torch.Tensor]) -> list[torch.Tensor]:
        images, labels = batch
        return [normalized(images, inputs), labels]
    return DataLoader(TrainingImages(inputs["acc_train_images"], inputs["acc_train_labels"]),
                      batch_size=int(inputs["acc_batch"]), shuffle=True, generator=generator, collate_fn=collate)


def probe_mlp(inputs: dict[str, torch.Tensor], *, train_mask: bool = False, grad_offset: bool = False,
              offset_bias: bool = False, units: int | None = None) -> torch.nn.Module:
    """The grader's model for train_epoch and validate: Flatten, Linear(784, 32), ReLU, Linear(32, 10).

    train_mask: after the ReLU, a dropout with a fixed mask, active only in train mode.
    grad_offset: at the end, a layer that shifts the logits while gradients are enabled.
    offset_bias: the same shift, always applied (folded into the output bias).
    units: the index of a row of inputs["va_perm"] and ["va_scale"]: the hidden units permuted and scaled by a
    positive factor (ReLU(s z) = s ReLU(z), the next layer divides by s), the same function in other parameters.
    A correct validate gives the same result on the plain model and on the first two, and a
    different one on the third; the trusted process reads eval mode and grad mode off those values.
    """
    w1, b1, w2, mask = inputs["te_w1"], inputs["te_b1"], inputs["te_w2"], inputs["te_train_mask"]
    if units is not None:
        order, scale = inputs["va_perm"][units], inputs["va_scale"][units]
        w1, b1, w2, mask = w1[order] * scale[:, None], b1[order] * scale, w2[:, order] / scale, mask[order]
    layers = [torch.nn.Flatten(), torch.nn.Linear(784, PROBE_HIDDEN), torch.nn.ReLU()]
    if train_mask:
        layers.append(_fixed_dropout(mask.clone()))
    layers.append(torch.nn.Linear(PROBE_HIDDEN, 10))
    if grad_offset:
        layers.append(_grad_mode_offset(inputs["te_grad_offset"].clone()))
    net = torch.nn.Sequential(*layers)
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        linear[0].weight.copy_(w1)
        linear[0].bias.copy_(b1)
        linear[1].weight.copy_(w2)
        linear[1].bias.copy_(inputs["te_b2"] + (inputs["te_grad_offset"] if offset_bias else 0))
    return net


def validate_model(inputs: dict[str, torch.Tensor], case: str) -> torch.nn.Module:
    """The model lent to validate as VALIDATE_CASES' `case`, in train mode: probe_mlp with that case's layer
    ("plain": none) and its own permutation and scale of the hidden units.

    Each case's parameters and samples (validate_batches) are its own, so a validate that caches results by
    anything it can see of a model or a loader finds nothing to reuse: only running the model (in eval mode,
    without gradients) gives the reference's result.
    """
    index = VALIDATE_CASES.index(case)
    options = {} if case == "plain" else {case: True}
    return probe_mlp(inputs, units=index, **options).train()


def validate_batches(inputs: dict[str, torch.Tensor], case: str) -> torch.utils.data.DataLoader:
    """The loader lent to validate with validate_model(inputs, case): 150 samples of its own, batches of 32."""
    index = VALIDATE_CASES.index(case)
    dataset = torch.utils.data.TensorDataset(inputs["va_x"][index], inputs["va_y"][index])
    return torch.utils.data.DataLoader(dataset, batch_size=PROBE_BATCH, shuffle=False)


# The two layers below read the mode and do their arithmetic through functions bound here, at
# import, and keep their tensors in closures: student code that patches torch.mul or
# torch.is_grad_enabled while it runs, or edits the layers' attributes, cannot hide what it did.

def _fixed_dropout(mask: torch.Tensor) -> torch.nn.Module:
    mul = torch.mul

    class Dropout(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return mul(x, mask) if self.training else x

    return Dropout()


def _grad_mode_offset(offset: torch.Tensor) -> torch.nn.Module:
    add, grad_enabled = torch.add, torch._C.is_grad_enabled

    class Output(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return add(x, offset) if grad_enabled() else x

    return Output()


def probe_batches(inputs: dict[str, torch.Tensor]) -> torch.utils.data.DataLoader:
    """The grader's loader for train_epoch and validate: 150 samples in order, batches of 32."""
    dataset = torch.utils.data.TensorDataset(inputs["te_x"], inputs["te_y"])
    return torch.utils.data.DataLoader(dataset, batch_size=PROBE_BATCH, shuffle=False)


def loop_standins(inputs: dict[str, torch.Tensor], calls: list[str]) -> tuple[Callable, Callable]:
    """Stand-ins lent to training_loop as train_epoch and validate (isolated credit).

    Each train_epoch moves the model's first Linear layer by a fixed step; both read what they return
    off that layer's weights. The lists training_loop returns therefore depend on calling them once
    per epoch, in order, on the model it was given: no one can copy them from the inputs. `calls`
    collects the order of calls, for messages. The hidden suite replays the reference with them.
    """
    step = inputs["loop_step"].clone()
    train_weights, val_weights = inputs["loop_train_weights"].clone(), inputs["loop_val_weights"].clone()

    def first_layer(model: torch.nn.Module) -> torch.nn.Linear:
        return next(m for m in model.modules() if isinstance(m, torch.nn.Linear))

    def train_epoch(model, loader, optimizer, loss_fn):
        calls.append("train_epoch")
        layer = first_layer(model)
        with torch.no_grad():
            layer.weight.add_(step)
        return 0.1 + float((layer.weight.detach().sum(dim=1) * train_weights).mean()) ** 2

    def validate(model, loader, loss_fn):
        calls.append("validate")
        rows = first_layer(model).weight.detach().sum(dim=1)
        return 0.1 + float((rows * val_weights).mean()) ** 2, float(torch.sigmoid((rows * train_weights).sum()))

    return train_epoch, validate
