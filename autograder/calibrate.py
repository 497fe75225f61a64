"""Calibrate the accuracy threshold: the reference trained exactly as the grader trains a submission, over
many seeds, spread over the batch engine's workers; stored with the data's fingerprint.

`make calibrate` runs it on purpose; grading runs it once, on first use, for data and a training budget that
have no stored calibration (unless MNIST_MIN_ACCURACY fixes the threshold). The store
(autograder/calibrations.json) then holds it: commit it, and every grading machine and every regrade uses
the same threshold.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from distributed import as_completed
from tqdm import tqdm

from .calibration import (
    ACCURACY_CHECK,
    DOC,
    STORE,
    Calibration,
    calibration_for,
    load_store,
    markdown,
    store_calibration,
    threshold_from,
    training_data,
)
from .config import CourseConfig
from .sandbox.arithmetic import use_grading_arithmetic

SEEDS = 100  # training runs per calibration: the tail estimate of threshold_from needs many


def accuracy_for_seed(seed: int, config: CourseConfig) -> float:
    """Test accuracy of the reference trained exactly as the grader trains a submission, probe seed `seed`
    (one CPU thread, deterministic algorithms)."""
    from solutions import part2_mnist as ref

    from .assignments.part2_mnist.child.inputs import make_inputs
    from .assignments.part2_mnist.child.probes import probe_mnist_accuracy
    from .assignments.part2_mnist.trusted.checks import TRAINED_LAYERS, accuracy_of
    from .sandbox.recorder import Recorder

    use_grading_arithmetic()
    inputs = make_inputs(config, 0)
    torch.manual_seed(seed)
    recorder = Recorder("calibration")
    probe_mnist_accuracy(vars(ref), inputs, recorder)
    return accuracy_of({name: recorder.tensors[name] for name in TRAINED_LAYERS}, inputs)


def calibrate(config: CourseConfig, seeds: int = SEEDS, *, command: str, note: str = "", workers: int | None = None,
              scheduler: str | None = None, store: Path = STORE, progress: bool = True) -> Calibration:
    """Train the reference `seeds` times on the engine's workers (a progress bar on stderr), store the
    calibration in `store` (docs/calibration.md follows the project's store) and return it."""
    from .cluster import engine

    if seeds < 2:
        raise ValueError("a calibration needs at least two seeds")
    data = training_data(config)
    started = time.monotonic()
    accuracies: dict[int, float] = {}
    with engine(config, workers, scheduler, seeds) as client, \
            tqdm(total=seeds, desc="calibrating the accuracy threshold", unit="run", disable=not progress,
                 file=sys.stderr) as bar:
        futures = {client.submit(accuracy_for_seed, seed, config, key=f"calibrate-{data.fingerprint}-{seed}",
                                 pure=False): seed for seed in range(seeds)}
        for future in as_completed(list(futures)):
            accuracies[futures[future]] = future.result()
            bar.update(1)
    runs = tuple(accuracies[seed] for seed in range(seeds))
    calibration = Calibration(data, threshold_from(runs), runs, round(time.monotonic() - started, 1), command, note)
    calibrations = store_calibration(calibration, store)
    if Path(store) == STORE:
        DOC.write_text(markdown(calibrations))
    return calibration


def ensure_calibrated(config: CourseConfig, assignment: str, *, workers: int | None = None,
                      scheduler: str | None = None, store: Path = STORE, seeds: int = SEEDS) -> Calibration | None:
    """Before grading `assignment`: calibrate its accuracy check's threshold if the configured data and budget
    have none stored and MNIST_MIN_ACCURACY is None (said on stderr, with a progress bar); the calibration
    made, else None."""
    if ACCURACY_CHECK not in config.assignment(assignment).checks or config.mnist_min_accuracy is not None:
        return None
    data = training_data(config)
    if calibration_for(data, store) is not None:
        return None
    print(f"tensorgrade: no accuracy threshold is calibrated for {data.describe()}: calibrating it now, once "
          f"({seeds} training runs of the reference); stored in {_shown(store)} (commit it: every grading machine "
          "and regrade then uses the same threshold)", file=sys.stderr)
    calibration = calibrate(config, seeds, command=f"first grading of {assignment}", workers=workers,
                            scheduler=scheduler, store=store)
    print(f"tensorgrade: threshold {calibration.threshold:.1%} (reference mean {calibration.mean:.1%}, sd "
          f"{calibration.sd:.2%}, {calibration.wall_s:.0f} s); {len(load_store(store))} calibrations stored",
          file=sys.stderr)
    return calibration


def _shown(path: Path) -> str:
    from .paths import PROJECT_ROOT

    path = Path(path)
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
