"""Calibrate the accuracy threshold: the reference trained exactly as the grader trains a submission, over
many seeds, spread over the batch engine's workers; stored with the data's fingerprint.

`make calibrate` runs it on purpose; grading runs it once, on first use, for data and a training budget that
have no stored calibration (unless the assignment's min_accuracy setting fixes the threshold). What one run
trains is the assignment's `calibration_run` hook (autograder.hooks). The assignment's store
(autograder/assignments/<name>/trusted/calibrations.json) then holds it: commit it, and every grading machine
and every regrade uses the same threshold.
"""
from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from pathlib import Path

from distributed import as_completed
from tqdm import tqdm

from .calibration import (
    DOC,
    Calibration,
    all_stores,
    calibrated,
    calibration_for,
    fixed_threshold,
    load_store,
    markdown,
    store_calibration,
    store_of,
    threshold_from,
    training_data,
)
from .config import CourseConfig
from .hooks import of as hooks_of

SEEDS = 100  # training runs per calibration: the tail estimate of threshold_from needs many


def accuracy_for_seed(seed: int, config: CourseConfig, assignment: str) -> float:
    """Test accuracy of `assignment`'s reference trained exactly as the grader trains a submission, seed `seed`
    (one CPU thread, deterministic algorithms): its calibration_run hook. Runs where the calibration trains (a
    worker): a batch's client, which checks the calibration, never imports torch."""
    from .sandbox.arithmetic import use_grading_arithmetic

    use_grading_arithmetic()
    return hooks_of(assignment).bound("calibration_run", config)(seed)


def calibrate(config: CourseConfig, assignment: str, seeds: int = SEEDS, *, command: str, note: str = "",
              workers: int | None = None, scheduler: str | None = None, store: Path | None = None,
              progress: bool = True, client=None) -> Calibration:
    """Train `assignment`'s reference `seeds` times on `client`'s workers (a distributed.Client: a batch's own,
    unless it is a single thread in this process), else on the engine's (a progress bar on stderr), store the
    calibration in `store` (default the assignment's own; docs/calibration.md follows the assignments' stores)
    and return it."""
    from .engine import engine, in_process, workers_started

    if seeds < 2:
        raise ValueError("a calibration needs at least two seeds")
    data = training_data(config, assignment)
    default_store = store_of(assignment)
    store = default_store if store is None else store
    started = time.monotonic()
    accuracies: dict[int, float] = {}
    own = client is None or in_process(client)  # one thread would train the seeds one after another
    with (engine(config, workers, scheduler, seeds) if own else nullcontext(client)) as client, \
            tqdm(total=seeds, desc="calibrating the accuracy threshold", unit="run", disable=not progress,
                 file=sys.stderr) as bar:
        workers_started(client)
        futures = {client.submit(accuracy_for_seed, seed, config, assignment,
                                 key=f"calibrate-{assignment}-{data.fingerprint}-{seed}",
                                 pure=False): seed for seed in range(seeds)}
        for future in as_completed(list(futures)):
            accuracies[futures[future]] = future.result()
            bar.update(1)
    runs = tuple(accuracies[seed] for seed in range(seeds))
    calibration = Calibration(data, threshold_from(runs), runs, round(time.monotonic() - started, 1), command, note)
    store_calibration(calibration, store)
    if Path(store) == default_store:
        DOC.write_text(markdown(all_stores()))
    return calibration


def ensure_calibrated(config: CourseConfig, assignment: str, *, workers: int | None = None,
                      scheduler: str | None = None, store: Path | None = None,
                      seeds: int = SEEDS, client=None) -> Calibration | None:
    """Before grading `assignment`: calibrate its calibrated check's threshold if the configured data and budget
    have none stored and its min_accuracy setting is None (said on stderr, with a progress bar), on `client`'s
    workers when given (the batch's own), else on the engine's; the calibration made, else None."""
    if not calibrated(config, assignment) or fixed_threshold(config, assignment) is not None:
        return None
    store = store_of(assignment) if store is None else store
    data = training_data(config, assignment)
    if calibration_for(data, store) is not None:
        return None
    print(f"tensorgrade: no accuracy threshold is calibrated for {data.describe()}: calibrating it now, once "
          f"({seeds} training runs of the reference); stored in {_shown(store)} (commit it: every grading machine "
          "and regrade then uses the same threshold)", file=sys.stderr)
    calibration = calibrate(config, assignment, seeds, command=f"first grading of {assignment}", workers=workers,
                            scheduler=scheduler, store=store, client=client)
    print(f"tensorgrade: threshold {calibration.threshold:.1%} (reference mean {calibration.mean:.1%}, sd "
          f"{calibration.sd:.2%}, {calibration.wall_s:.0f} s); {len(load_store(store))} calibrations stored",
          file=sys.stderr)
    return calibration


def _shown(path: Path) -> str:
    from .paths import PROJECT_ROOT

    path = Path(path)
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
