"""Thresholds of calibrated checks (an accuracy reached by training), calibrated for the data and training budget
they were measured on.

A calibration (autograder.calibrate: on first use, or `make calibrate`) trains the reference as the grader
trains a submission, over many seeds, and derives the threshold from the accuracies. It holds only for what it
was made on: what the assignment's `training_data` hook describes (its data, the source actually read, the
sizes, the training budget, a fingerprint of the data). Each assignment keeps its calibrations in its own
trusted/calibrations.json (committed), one per such description; docs/calibration.md lists them all.

    threshold_for(config, a)       the threshold assignment `a`'s calibrated check uses; CalibrationMissing if none fits
    check_calibrated(config, a)    the same check, run before grading assignment `a` starts
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import assignments
from .config import ConfigError, CourseConfig
from .hooks import of as hooks_of
from .paths import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "calibration.md"
STORE_NAME = "calibrations.json"
# The setting of a calibrated check's assignment that fixes its threshold (None: the calibrated one).
FIXED_THRESHOLD = "min_accuracy"
# A correct solution falls below mean - 3.09 sd with probability 1 in 1,000 (one-sided normal tail);
# the threshold also stays half a point under the worst seed seen, in case the tail is heavier.
Z_ONE_IN_1000 = 3.09
WORST_SEED_MARGIN = 0.005


class CalibrationMissing(ConfigError):
    """No stored calibration fits the configured data and training budget, and min_accuracy is None."""


class DataUnavailable(ConfigError):
    """An assignment's data cannot be read as configured (no network, missing or incomplete files, no folder)."""


@dataclass(frozen=True)
class TrainingData:
    """What a calibration was made on: a calibrated check's data and training budget (compared by these),
    with its words (made by the assignment's hook, stored beside them)."""

    dataset: str  # the data's name as configured
    source: str  # what was actually read ("offline", "files", "generated")
    train_size: int
    test_size: int
    epochs: int
    batch_size: int
    learning_rate: float
    fingerprint: str  # of the train and test labels (see fingerprint), 16 hex digits
    title: str = field(default="", compare=False)  # the data in words, as the notebook names it
    summary: str = field(default="", compare=False)  # data, source, sizes, fingerprint and budget on one line

    @property
    def name(self) -> str:
        """The data in words, as the notebook names it (its title; else its configured name)."""
        return self.title or self.dataset

    def describe(self) -> str:
        """Data, source, sizes, fingerprint and budget on one line."""
        return self.summary or (f"{self.dataset} from {self.source} ({self.train_size:,} train / {self.test_size:,} "
                                f"test, sha256 {self.fingerprint}), {self.epochs} epochs at lr "
                                f"{self.learning_rate:g}, batch {self.batch_size}")


@dataclass(frozen=True)
class Calibration:
    """One calibration: the data it was made on and the reference's accuracies over its seeds."""

    data: TrainingData
    threshold: float
    accuracies: tuple[float, ...]
    wall_s: float
    command: str
    note: str = ""

    @property
    def mean(self) -> float:
        """Mean accuracy over the seeds."""
        return statistics.mean(self.accuracies)

    @property
    def sd(self) -> float:
        """Sample standard deviation of the accuracy over the seeds."""
        return statistics.stdev(self.accuracies)


def threshold_from(accuracies: list[float] | tuple[float, ...]) -> float:
    """min(mean - 3.09 sd, worst - 0.005), rounded down to 0.001: a correct solution misses it < 1 in 1,000."""
    if len(accuracies) < 2:
        raise ValueError("a calibration needs at least two seeds")
    mean, sd = statistics.mean(accuracies), statistics.stdev(accuracies)
    threshold = min(mean - Z_ONE_IN_1000 * sd, min(accuracies) - WORST_SEED_MARGIN)
    return int(round(threshold * 1000, 6)) / 1000


def fingerprint(train_labels: Sequence[int], test_labels: Sequence[int]) -> str:
    """First 16 hex digits of the sha256 of each split's size (8 bytes) and labels (a byte each), train first."""
    digest = hashlib.sha256()
    for labels in (train_labels, test_labels):
        digest.update(len(labels).to_bytes(8, "big") + bytes(int(label) for label in labels))
    return digest.hexdigest()[:16]


def store_of(assignment: str) -> Path:
    """Where assignment `assignment` keeps its calibrations: its trusted/calibrations.json."""
    return assignments.folder(assignment) / assignments.TRUSTED / STORE_NAME


def training_data(config: CourseConfig, assignment: str) -> TrainingData:
    """What a calibration of `assignment`'s calibrated check is made on, as configured (its training_data
    hook); DataUnavailable, in one line naming the setting, where its data cannot be read as configured."""
    return hooks_of(assignment).bound("training_data", config)()


def fixed_threshold(config: CourseConfig, assignment: str) -> float | None:
    """The threshold the instructor set for `assignment` (its min_accuracy setting), or None: the calibrated one."""
    return config.assignment(assignment).settings.get(FIXED_THRESHOLD)


def calibrated(config: CourseConfig, assignment: str) -> bool:
    """Whether `assignment` has a calibrated check among its configured checks."""
    check = hooks_of(assignment).calibrated_check
    return check is not None and check in config.assignment(assignment).checks


def markdown(stores: dict[str, list[Calibration]]) -> str:
    """The text of docs/calibration.md: every stored calibration of every assignment, with its data and figures."""
    lines = [
        "# Calibrated thresholds",
        "",
        "Generated by autograder.calibrate (on first use of new data, or `make calibrate`) from each assignment's",
        "autograder/assignments/<name>/trusted/calibrations.json; do not edit by hand. Each calibration trains the",
        "reference exactly as the grader trains a submission (the assignment's calibration run, seeded 0, 1, ...,",
        "one CPU thread, deterministic algorithms), evaluates the trained weights on the test set as the hidden",
        f"suite does, and sets threshold = min(mean - {Z_ONE_IN_1000} sd, worst seed - 0.005), rounded down to 0.001:",
        "a correct solution misses it with probability below 1 in 1,000.",
        "",
        f"A calibration holds only for the data and budget it was made on. With the assignment's `{FIXED_THRESHOLD}`",
        "setting None (the default), the first grading on anything else calibrates it and adds it here.",
    ]
    for assignment, calibrations in sorted(stores.items()):
        lines += ["", f"## {assignment}"]
        for c in calibrations:
            d = c.data
            lines += [
                "",
                f"### {d.name[0].upper() + d.name[1:]}: {d.train_size:,} / {d.test_size:,} examples, "
                + f"{d.epochs} epochs, batch {d.batch_size}, lr {d.learning_rate:g}",
                "",
                f"- data: {d.describe()}",
                f"- command: `{c.command}` ({len(c.accuracies)} seeds, {c.wall_s:.0f} s wall)",
            ]
            if c.note:
                lines.append(f"- note: {c.note}")
            lines += [
                f"- mean accuracy {c.mean:.4f}, standard deviation {c.sd:.4f}",
                f"- min {min(c.accuracies):.4f}, max {max(c.accuracies):.4f}",
                f"- threshold = min(mean - {Z_ONE_IN_1000} sd, min - 0.005) = **{c.threshold:.3f}**",
                "",
                "Per seed: " + ", ".join(f"{a:.3f}" for a in c.accuracies),
            ]
    return "\n".join(lines) + "\n"


def all_stores() -> dict[str, list[Calibration]]:
    """Every assignment's stored calibrations, by assignment (those that have a store)."""
    return {name: load_store(store_of(name)) for name in assignments.names() if store_of(name).is_file()}


def _to_json(calibration: Calibration) -> dict:
    entry = dataclasses.asdict(calibration)
    entry["accuracies"] = [round(a, 6) for a in calibration.accuracies]
    return entry


def _from_json(entry: dict) -> Calibration:
    return Calibration(**{**entry, "data": TrainingData(**entry["data"]), "accuracies": tuple(entry["accuracies"])})


def load_store(path: Path) -> list[Calibration]:
    """Every stored calibration (none when the store does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    stat = path.stat()
    return list(_load(str(path), (stat.st_ino, stat.st_mtime_ns, stat.st_size)))


@functools.lru_cache(maxsize=4)
def _load(path: str, version: tuple[int, int, int]) -> tuple[Calibration, ...]:
    try:
        return tuple(_from_json(entry) for entry in json.loads(Path(path).read_text())["calibrations"])
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{path}: not a calibration store ({err}); restore it from git or run `make calibrate`") \
            from None


def store_calibration(calibration: Calibration, path: Path) -> list[Calibration]:
    """Add `calibration` to the store, replacing the one made on the same data; return the new store."""
    path = Path(path)
    kept = [c for c in load_store(path) if c.data != calibration.data]
    entries = sorted([*kept, calibration], key=lambda c: dataclasses.astuple(c.data))
    text = json.dumps({"calibrations": [_to_json(c) for c in entries]}, indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return entries


def calibration_for(data: TrainingData, path: Path) -> Calibration | None:
    """The stored calibration made on exactly `data`, if any."""
    return next((c for c in load_store(path) if c.data == data), None)


def threshold_for(config: CourseConfig, assignment: str, path: Path | None = None) -> float:
    """`assignment`'s min_accuracy when set, else the threshold calibrated for its configured data (stored in
    `path`, default its own store), or CalibrationMissing."""
    fixed = fixed_threshold(config, assignment)
    if fixed is not None:
        return fixed
    path = store_of(assignment) if path is None else path
    data = training_data(config, assignment)
    calibration = calibration_for(data, path)
    if calibration is None:
        raise CalibrationMissing(
            f"no accuracy threshold of {assignment} is calibrated for {data.describe()}: `tensorgrade grade` and "
            f"`tensorgrade autograde` calibrate it on first use, as does `make calibrate` (stored in {_shown(path)}); "
            f"or set ASSIGNMENTS[{assignment!r}]['settings'][{FIXED_THRESHOLD!r}] in {config.path} knowingly")
    return calibration.threshold


def check_calibrated(config: CourseConfig, assignment: str) -> None:
    """Stop before grading `assignment` if its calibrated check cannot read the configured data
    (DataUnavailable) or has no threshold for it (CalibrationMissing)."""
    if calibrated(config, assignment):
        training_data(config, assignment)
        threshold_for(config, assignment)


def _shown(path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
