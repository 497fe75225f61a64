"""course_config.py: valid as shipped; every invalid value is reported by its setting's name."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.config import DEFAULT_CONFIG, ConfigError, load_config


def test_shipped_config_is_valid_and_sums_to_100_points_per_assignment():
    config = load_config()
    for assignment in config.assignments.values():
        assert assignment.max_score == 100, assignment.name


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_CONFIG.read_text()
    assert old in text, old
    path = tmp_path / "course_config.py"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, named", [
    ('DATASET = "MNIST"', 'DATASET = "CIFAR"', "DATASET"),
    ('DATA_SOURCE = "auto"', 'DATA_SOURCE = "internet"', "DATA_SOURCE"),
    ("GRADING_SEED = 20261126", 'GRADING_SEED = "abc"', "GRADING_SEED"),
    ("CELL_TIME_LIMIT_S = 10", "CELL_TIME_LIMIT_S = -1", "CELL_TIME_LIMIT_S"),
    ("MEMORY_LIMIT_MB = 4096", "MEMORY_LIMIT_MB = 4.5", "MEMORY_LIMIT_MB"),
    ("MNIST_MIN_ACCURACY = ", "MNIST_MIN_ACCURACY = 85 or ", "MNIST_MIN_ACCURACY"),
    ("MNIST_EPOCHS = 2", "MNIST_EPOCHS = True", "MNIST_EPOCHS"),
    ('"predict_classes_values": 4', '"predict_classes_values": 0', "predict_classes_values"),
    ('"notebook": "part1_regression.ipynb"', '"notebook": "part1.py"', "notebook"),
    ("COURSE_ID = ", "COURSE_IDENT = ", "COURSE_ID"),
])
def test_invalid_setting_is_named_in_the_error(tmp_path, old, new, named):
    with pytest.raises(ConfigError, match=named):
        load_config(_variant(tmp_path, old, new))


def test_unknown_assignment_lists_the_known_ones():
    with pytest.raises(ConfigError, match="part1_regression"):
        load_config().assignment("part3")


def test_nbgrader_reads_course_config_through_the_shim(tmp_path):
    from traitlets.config import Config

    from autograder.nbgrader_setup import configure

    c = Config()
    configure(c, tmp_path)
    assert c.CourseDirectory.course_id == load_config().course_id
    assert c.CourseDirectory.root == str(tmp_path.resolve())
    assert c.Autograde.autograde_preprocessors[0].__name__ == "GradeInSandbox"
