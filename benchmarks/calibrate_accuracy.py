"""Calibrate the MNIST accuracy threshold for the configured data: the reference, trained as the grader trains.

Runs the accuracy probe (the same code the sandbox runs) with the reference MNISTModel and
train_epoch, seeded 0, 1, ..., then evaluates the trained weights as the hidden suite does
(`accuracy_of`), and derives the threshold a correct solution misses with probability below
1 in 1,000 (autograder.calibration.threshold_from). Adds the calibration to
autograder/calibrations.json, replacing an older one made on the same data and budget, and
regenerates docs/calibration.md from the whole store.

    make calibrate                                        # 100 seeds, the project's course_config.py
    TENSORGRADE_CONFIG=other_config.py python benchmarks/calibrate_accuracy.py --seeds 20 --note "..."
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import torch

from autograder.assignments.part2_mnist.checks import TRAINED_LAYERS, accuracy_of
from autograder.assignments.part2_mnist.inputs import make_inputs
from autograder.assignments.part2_mnist.probes import probe_mnist_accuracy
from autograder.calibration import DOC, STORE, Calibration, markdown, store_calibration, threshold_from, training_data
from autograder.config import DEFAULT_CONFIG, load_config
from autograder.paths import PROJECT_ROOT
from autograder.sandbox.recorder import Recorder
from solutions import part2_mnist as ref

DEFAULT_SEEDS = 100


def accuracy_for_seed(seed: int, inputs: dict) -> float:
    """Test accuracy of the reference trained exactly as the grader trains a submission, probe seed `seed`."""
    torch.manual_seed(seed)
    recorder = Recorder("calibration")
    probe_mnist_accuracy(vars(ref), inputs, recorder)
    return accuracy_of({name: recorder.tensors[name] for name in TRAINED_LAYERS}, inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="training runs (seeds 0 .. N-1); at least 2")
    parser.add_argument("--note", default="", help="a remark stored with the calibration, e.g. why fewer seeds")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    config = load_config()
    data = training_data(config)
    inputs = make_inputs(config, 0)
    print(f"calibrating for {data.describe()}, {args.seeds} seeds", flush=True)
    started = time.monotonic()
    accuracies = []
    for seed in range(args.seeds):
        accuracies.append(accuracy_for_seed(seed, inputs))
        print(f"seed {seed}: {accuracies[-1]:.4f}", file=sys.stderr, flush=True)
    command = f"python benchmarks/calibrate_accuracy.py --seeds {args.seeds}"
    if config.path != DEFAULT_CONFIG:
        command = f"TENSORGRADE_CONFIG={shlex.quote(str(config.path))} {command}"
    elif args.seeds == DEFAULT_SEEDS:
        command = "make calibrate"
    calibration = Calibration(data, threshold_from(accuracies), tuple(accuracies), round(time.monotonic() - started, 1),
                              command, args.note)
    calibrations = store_calibration(calibration, STORE)
    DOC.write_text(markdown(calibrations))
    print(f"mean {calibration.mean:.4f}, sd {calibration.sd:.4f}, min {min(accuracies):.4f}, "
          f"max {max(accuracies):.4f}: threshold {calibration.threshold:.3f} ({calibration.wall_s:.0f} s); "
          f"stored in {STORE.relative_to(PROJECT_ROOT)}, listed in {DOC.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
