"""The grader's inputs make every check meaningful for any grading seed an instructor picks."""
from __future__ import annotations

import contextlib
import dataclasses
import io

import pytest
import torch

from autograder.assignments.part1_regression.child import inputs as part1
from autograder.assignments.part2_mnist.child import inputs as part2
from autograder.assignments.part2_mnist.trusted.checks import EPOCH
from autograder.assignments.probing import lent
from autograder.batch import grade_many
from autograder.config import load_config
from solutions import part1_regression as ref
from solutions import part2_mnist as ref2
from tests.helpers import ASSIGNMENTS, solution, write

# Every submission draws its own 63-bit seed (autograder.seeds): small seeds and a few large ones.
SEEDS = [*range(6), 2**62 + 12345, 8_361_092_117_418_004_441, 5_027_339_680_144_961_319]


def _inputs(seed: int) -> dict:
    return part1.make_inputs(load_config(), seed)


def _adam(n: int, lr: float, inputs: dict, scheduler: bool, before: bool = False) -> torch.Tensor:
    params = inputs["line_init"].clone().requires_grad_()
    optimizer = torch.optim.Adam([params], lr=lr)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    model = part1.standin_model(inputs)
    for _ in range(n):
        w, b = params
        loss = part1.mse_with_flat_value(model(inputs["line_x"], w, b), inputs["line_y"])
        optimizer.zero_grad()
        loss.backward()
        if scheduler and before:
            plateau.step(loss.item())
        optimizer.step()
        if scheduler and not before:
            plateau.step(loss.item())
    return params.detach()


def _reference_adam(n: int, lr: float, inputs: dict) -> torch.Tensor:
    with lent(vars(ref), model=part1.standin_model(inputs), loss_fn=part1.mse_with_flat_value), \
            contextlib.redirect_stdout(io.StringIO()):
        return ref.training_loop_adam(n, lr, inputs["line_init"].clone().requires_grad_(),
                                      inputs["line_x"], inputs["line_y"]).detach()


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_inputs_separate_a_missing_or_early_scheduler_from_the_reference(seed):
    inputs = _inputs(seed)
    lr, epochs = float(inputs["adam_lr"]), part1.ADAM_TRAJECTORY_EPOCHS
    reference = torch.stack([_reference_adam(n, lr, inputs) for n in epochs])
    missing = torch.stack([_adam(n, lr, inputs, scheduler=False) for n in epochs])
    early = torch.stack([_adam(n, lr, inputs, scheduler=True, before=True) for n in epochs])
    # 40x the trajectory tolerance (1e-3) at some compared epoch: no rounding difference can close this gap.
    assert (reference - missing).abs().max() > 0.04
    assert (reference - early).abs().max() > 0.04


def test_lines_start_far_from_the_fit_for_any_seed():
    """The decrease checks need a start loss far above the noise floor (0.01): seeds that once put
    line_init next to the best line made correct loops fail "the loss halves"."""
    seeds = range(10_000, 10_200)
    assert min(part1.standin_line_loss(_inputs(s)["line_init"], _inputs(s)) for s in seeds) > 0.1


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_lowers_the_loss_far_below_the_checks_margin(seed):
    inputs = _inputs(seed)
    start = part1.standin_line_loss(inputs["line_init"], inputs)
    with lent(vars(ref), model=part1.standin_model(inputs), loss_fn=part1.standin_loss(inputs)), \
            contextlib.redirect_stdout(io.StringIO()):
        for fn, lr in ((ref.training_loop, inputs["gd_lr"]), (ref.training_loop_adam, inputs["adam_lr"])):
            params = fn(part1.DECREASE_EPOCHS, float(lr), inputs["line_init"].clone().requires_grad_(),
                        inputs["line_x"], inputs["line_y"])
            # The checks demand a factor 0.5; the reference reaches 0.1 on every seed.
            assert part1.standin_line_loss(params, inputs) < 0.1 * start, fn.__name__


@pytest.mark.parametrize("seed", SEEDS)
def test_lent_stand_ins_are_not_answers_to_model_or_loss_fn(seed):
    """Isolated credit lends stand-ins, never the reference: submitting them fails model and loss_fn."""
    inputs = _inputs(seed)
    x, w, b = inputs["line_x"], inputs["model_w"], inputs["model_b"]
    assert (part1.standin_model(inputs)(x, w, b) - ref.model(x, w, b)).abs().max() > 1e-2
    # On loss_fn's checked inputs (20 predictions; 6 in float64) the stand-in's 40 weights do not even fit.
    for pred, true in ((inputs["loss_pred"], inputs["loss_true"]), (inputs["loss_pred64"], inputs["loss_true64"])):
        with pytest.raises(RuntimeError):
            part1.standin_loss(inputs)(pred, true)


def _loss_in_mode(case: str, inputs: dict, *, train: bool, grad: bool) -> float:
    """validate's mean loss on the lent model of `case` left in train mode and/or with gradients enabled."""
    model = part2.validate_model(inputs, case).train(train)
    loss_fn, total, count = torch.nn.CrossEntropyLoss(), 0.0, 0
    with torch.set_grad_enabled(grad):
        for images, labels in part2.validate_batches(inputs, case):
            total += loss_fn(model(images), labels).item() * len(labels)
            count += len(labels)
    return total / count


@pytest.mark.parametrize("seed", SEEDS)
def test_validate_models_change_the_loss_only_when_validate_misuses_them(seed):
    inputs = part2.make_inputs(load_config(), seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    results = {case: ref2.validate(part2.validate_model(inputs, case), part2.validate_batches(inputs, case), loss_fn)
               for case in part2.VALIDATE_CASES}
    # Run correctly, the dropout and grad-mode layers change nothing: the same loss as the model without them.
    for case in ("train_mask", "grad_offset"):
        assert results[case][0] == pytest.approx(_loss_in_mode(case, inputs, train=False, grad=False), rel=1e-6)
    # The suites' SAME_MODEL tolerance is 1e-6 relative; each misuse moves the loss by far more.
    assert abs(_loss_in_mode("train_mask", inputs, train=True, grad=False) - results["train_mask"][0]) > 0.05
    assert abs(_loss_in_mode("grad_offset", inputs, train=False, grad=True) - results["grad_offset"][0]) > 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_no_validate_result_can_be_reused_for_another_lent_model(seed):
    """A validate that memoises by what it sees (parameters, samples) or returns an earlier result is caught:
    every lent model has parameters and samples of its own, and a reference result apart from the others'."""
    inputs = part2.make_inputs(load_config(), seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    cases = part2.VALIDATE_CASES
    losses = [ref2.validate(part2.validate_model(inputs, c), part2.validate_batches(inputs, c), loss_fn)[0]
              for c in cases]
    first_layers = [part2.validate_model(inputs, c)[1].weight for c in cases]
    samples = [part2.validate_batches(inputs, c).dataset.tensors[0] for c in cases]
    for i in range(len(cases)):
        for j in range(i):
            # 100 times the suites' SAME_MODEL tolerance (1e-6 relative): a reused result fails the check.
            assert abs(losses[i] - losses[j]) > 1e-4 * abs(losses[j]), (cases[i], cases[j])
            assert not torch.allclose(first_layers[i], first_layers[j]), (cases[i], cases[j])
            assert not torch.allclose(samples[i], samples[j]), (cases[i], cases[j])
    # The permuted and scaled hidden units are an equivalent parameterisation: the same logits.
    x = inputs["te_x"][:8]
    with torch.no_grad():
        assert torch.allclose(part2.validate_model(inputs, "plain")(x), part2.probe_mlp(inputs)(x), rtol=1e-4,
                              atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 1234])
def test_solutions_score_full_marks_with_other_grading_seeds(seed, tmp_path):
    config = dataclasses.replace(load_config(), grading_seed=seed)
    jobs = [(write(solution(a), tmp_path / f"{a}.ipynb"), a) for a in ASSIGNMENTS]
    for report in grade_many(jobs, config):
        assert [c.name for c in report.checks if not c.passed] == [], report.assignment


def test_the_accuracy_checks_batches_are_those_a_dataloader_takes_one_image_at_a_time():
    """training_loader indexes each batch at once (TrainingImages.__getitems__): the same images in the same order,
    normalized as the whole set would be, with the DataLoader a student's train_epoch may read (its batch size,
    the length of its dataset, one pair per index)."""
    g = torch.Generator().manual_seed(7)
    images, labels = torch.randint(0, 256, (203, 28, 28), generator=g, dtype=torch.uint8), torch.randint(0, 10, (203,))
    inputs = {"acc_train_images": images, "acc_train_labels": labels, "acc_batch": torch.tensor(64),
              "acc_mean": torch.tensor([0.3]), "acc_std": torch.tensor([0.4])}
    batched = part2.training_loader(inputs, torch.Generator().manual_seed(11))
    one_by_one = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=64,
                                             shuffle=True, generator=torch.Generator().manual_seed(11))
    pairs = list(zip(batched, one_by_one, strict=True))
    assert [len(x) for (x, _), _ in pairs] == [64, 64, 64, 11]
    for (x, y), (raw, expected) in pairs:
        assert torch.equal(y, expected)
        assert torch.equal(x, ((raw.float() / 255 - 0.3) / 0.4).unsqueeze(1))
    assert batched.batch_size == 64 and len(batched.dataset) == 203
    assert torch.equal(batched.dataset[5][0], images[5]) and int(batched.dataset[5][1]) == int(labels[5])


def _tolerances_apart(value: float, reference: float) -> float:
    """|value - reference| in units of the train_epoch and validate checks' tolerance (EPOCH)."""
    return abs(value - reference) / (EPOCH["atol"] + EPOCH["rtol"] * abs(reference))


def _mean_of_batch_means_epoch(inputs: dict) -> float:
    net = part2.probe_mlp(inputs)
    optimizer, loss_fn, losses = torch.optim.SGD(net.parameters(), lr=part2.PROBE_LR), torch.nn.CrossEntropyLoss(), []
    for images, labels in part2.probe_batches(inputs):
        optimizer.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def _batch_losses(inputs: dict, case: str) -> list[tuple[float, int]]:
    model, loss_fn = part2.validate_model(inputs, case).eval(), torch.nn.CrossEntropyLoss()
    with torch.no_grad():
        return [(loss_fn(model(images), labels).item(), len(labels))
                for images, labels in part2.validate_batches(inputs, case)]


def _partial_batch_margins(seed: int) -> dict[str, float]:
    """How many tolerances each way of mishandling the last, partial batch lands from the reference. (Counting every
    batch as full, batch size x batches, gives the mean of batch means' loss.)"""
    inputs = part2.make_inputs(load_config(), seed)
    net = part2.probe_mlp(inputs)
    reference = ref2.train_epoch(net, part2.probe_batches(inputs), torch.optim.SGD(net.parameters(), lr=part2.PROBE_LR),
                                 torch.nn.CrossEntropyLoss())
    margins = {"train_epoch: mean of batch means": _tolerances_apart(_mean_of_batch_means_epoch(inputs), reference)}
    for case in ("plain", "offset_bias"):  # the two validate results compared with the reference's loss
        mean = ref2.validate(part2.validate_model(inputs, case), part2.validate_batches(inputs, case),
                             torch.nn.CrossEntropyLoss())[0]
        batches = _batch_losses(inputs, case)
        full = [(loss, n) for loss, n in batches if n == part2.PROBE_BATCH]
        margins[f"validate {case}: mean of batch means"] = _tolerances_apart(
            sum(loss for loss, _ in batches) / len(batches), mean)
        margins[f"validate {case}: last batch skipped"] = _tolerances_apart(
            sum(loss * n for loss, n in full) / sum(n for _, n in full), mean)
    return margins


@pytest.mark.parametrize("seed", [*SEEDS, *range(100, 160)])
def test_the_last_partial_batch_separates_a_mean_over_batches_from_the_mean_over_samples(seed):
    """The mean of batch means and a skipped last batch differ from the mean over samples only by how far the last
    batch's loss is from the others'. With alike images 1 seed in 40 put it within the tolerance, and a mean of
    batch means got train_epoch's points; the larger last-batch images (PARTIAL_BATCH_SCALE) keep it far out."""
    margins = _partial_batch_margins(seed)
    assert min(margins.values()) > 20, margins
