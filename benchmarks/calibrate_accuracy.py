"""Calibrate MNIST_MIN_ACCURACY: the reference's accuracy under the grader's own procedure, over many seeds.

Runs the accuracy probe (the same code the sandbox runs) with the reference MNISTModel and
train_epoch, one seed at a time, and prints the distribution and the threshold that a correct
solution misses with probability below 1 in 1,000 (mean - 3.09 sd, one-sided normal tail,
and never above the worst seed seen minus half a point). Writes docs/calibration.md.

    make calibrate            # or: python benchmarks/calibrate_accuracy.py --seeds 30
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from autograder.config import PROJECT_ROOT, load_config
from autograder.inputs.part2_mnist import make_inputs
from autograder.probes.part2_mnist import probe_mnist_accuracy
from autograder.sandbox.recorder import Recorder
from solutions import part2_mnist as ref

Z_ONE_IN_1000 = 3.09


def accuracy_for_seed(seed: int, inputs: dict) -> float:
    """Test accuracy of the reference trained exactly as the grader trains a submission."""
    torch.manual_seed(seed)
    recorder = Recorder("calibration")
    probe_mnist_accuracy(vars(ref), inputs, recorder)
    logits = recorder.tensors["test_logits"]
    return (logits.argmax(dim=1) == inputs["secret_test_labels"]).double().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    config = load_config()
    inputs = make_inputs(config)
    started = time.monotonic()
    accuracies = [accuracy_for_seed(seed, inputs) for seed in range(args.seeds)]
    mean, sd = statistics.mean(accuracies), statistics.stdev(accuracies)
    threshold = min(mean - Z_ONE_IN_1000 * sd, min(accuracies) - 0.005)
    threshold = int(threshold * 1000) / 1000
    lines = [
        "# MNIST accuracy threshold calibration",
        "",
        f"Command: `make calibrate` ({args.seeds} seeds, {time.monotonic() - started:.0f} s).",
        f"Procedure: reference MNISTModel + train_epoch, {config.mnist_epochs} epochs of SGD "
        f"(lr {config.mnist_learning_rate}, batch {config.mnist_batch_size}) on "
        f"{len(inputs['acc_train_labels'])} normalized {config.dataset} images (source {config.data_source}), "
        f"tested on {len(inputs['secret_test_labels'])} images; one CPU thread, as in the sandbox.",
        "",
        f"- mean accuracy {mean:.4f}, standard deviation {sd:.4f}",
        f"- min {min(accuracies):.4f}, max {max(accuracies):.4f}",
        f"- threshold = min(mean - {Z_ONE_IN_1000} sd, min - 0.005) = **{threshold:.3f}**",
        f"- course_config.py has MNIST_MIN_ACCURACY = {config.mnist_min_accuracy}",
        "",
        "Per seed: " + ", ".join(f"{a:.3f}" for a in accuracies),
        "",
        "Re-run after changing the dataset, its source, or the training budget.",
    ]
    text = "\n".join(lines) + "\n"
    (PROJECT_ROOT / "docs" / "calibration.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
