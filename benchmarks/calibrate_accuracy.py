"""Calibrate the accuracy thresholds for the configured data: each reference, trained as the grader trains.

Runs autograder.calibrate (what grading also runs on first use of new data) for every configured assignment
with a calibrated check (or the one named): its calibration run (for part2_mnist: the accuracy probe, the same
code the sandbox runs, with the reference MNISTModel and train_epoch, then the trained weights evaluated as the
hidden suite does), seeded 0, 1, ..., on the batch engine's workers, and derives the threshold a correct
solution misses with probability below 1 in 1,000 (autograder.calibration.threshold_from). Adds the
calibration to the assignment's trusted/calibrations.json, replacing an older one made on the same data and
budget, and regenerates docs/calibration.md from every store.

    make calibrate                                        # 100 seeds, the project's course_config.py
    TENSORGRADE_CONFIG=other_config.py python benchmarks/calibrate_accuracy.py --seeds 20 --note "..."
"""
from __future__ import annotations

import argparse
import shlex

from autograder.calibrate import SEEDS, calibrate
from autograder.calibration import DOC, calibrated, store_of, training_data
from autograder.config import DEFAULT_CONFIG, load_config
from autograder.paths import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", help="the assignment to calibrate (default: every one with a calibrated "
                                             "check)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="training runs (seeds 0 .. N-1); at least 2")
    parser.add_argument("--note", default="", help="a remark stored with the calibration, e.g. why fewer seeds")
    parser.add_argument("--workers", type=int, help="worker processes (default: PARALLEL_SUBMISSIONS, else one "
                                                    "per core)")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2")
    config = load_config()
    names = [args.assignment] if args.assignment else [a for a in config.assignments if calibrated(config, a)]
    command = f"python benchmarks/calibrate_accuracy.py --seeds {args.seeds}"
    if config.path != DEFAULT_CONFIG:
        command = f"TENSORGRADE_CONFIG={shlex.quote(str(config.path))} {command}"
    elif args.seeds == SEEDS and not args.assignment:
        command = "make calibrate"
    for name in names:
        print(f"calibrating {name} for {training_data(config, name).describe()}, {args.seeds} seeds", flush=True)
        calibration = calibrate(config, name, args.seeds, command=command, note=args.note, workers=args.workers)
        print(f"mean {calibration.mean:.4f}, sd {calibration.sd:.4f}, min {min(calibration.accuracies):.4f}, "
              f"max {max(calibration.accuracies):.4f}: threshold {calibration.threshold:.3f} "
              f"({calibration.wall_s:.0f} s); stored in {store_of(name).relative_to(PROJECT_ROOT)}, listed in "
              f"{DOC.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
