"""course_config.py: valid as shipped; every invalid value is reported by its setting's name."""
from __future__ import annotations

import dataclasses
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
    ('"dataset": "MNIST"', '"dataset": "CIFAR"', r"\['settings'\]: dataset must be one of MNIST, FashionMNIST"),
    ('"data_source": "auto"', '"data_source": "internet"', r"\['settings'\]: data_source"),
    ("GRADING_SEED = 20261126", 'GRADING_SEED = "abc"', "GRADING_SEED"),
    ("CELL_TIME_LIMIT_S = 10", "CELL_TIME_LIMIT_S = -1", "CELL_TIME_LIMIT_S"),
    ("MEMORY_LIMIT_MB = 4096", "MEMORY_LIMIT_MB = 4.5", "MEMORY_LIMIT_MB"),
    ('"min_accuracy": None', '"min_accuracy": 85', r"\['settings'\]: min_accuracy must be None"),
    ('"epochs": 2', '"epochs": True', r"\['settings'\]: epochs must be int"),
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
    # formgrader warns while nbgrader's exchange folder is missing: it is the course's own, made here
    assert c.Exchange.root == str(tmp_path.resolve() / "exchange") and (tmp_path / "exchange").is_dir()


# --- mistakes the instructor makes: named, with the setting meant, in the file actually in use ---------------

def test_a_misspelt_setting_is_named_with_the_one_likely_meant(tmp_path):
    path = _variant(tmp_path, "MEMORY_LIMIT_MB = 4096", "MEMORY_LIMT_MB = 4096")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: MEMORY_LIMT_MB is not a setting (did you mean MEMORY_LIMIT_MB?)"


def test_an_unknown_setting_with_no_likely_match_lists_the_settings(tmp_path):
    path = _variant(tmp_path, "MAX_PROCESSES = 256", "MAX_PROCESSES = 256\nGPU = True")
    with pytest.raises(ConfigError, match=r"GPU is not a setting; the settings are COURSE_ID, .*ASSIGNMENTS"):
        load_config(path)


def test_a_misspelt_check_name_is_named_with_the_check_likely_meant(tmp_path):
    path = _variant(tmp_path, '"predict_classes_values": 4', '"predict_class_values": 4')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ASSIGNMENTS['part1_regression']['checks']['test_predict_classes']: "
                               "'predict_class_values' is not a check of part1_regression (did you mean "
                               "'predict_classes_values'?)"), message
    assert message.endswith("?)"), "the likely check alone, not the list of all"


def test_a_misspelt_assignment_setting_is_named_with_the_one_likely_meant_in_the_file_in_use(tmp_path):
    path = _variant(tmp_path, '"epochs": 2', '"epoch": 2')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: ASSIGNMENTS['part2_mnist']['settings']: epoch is not a setting (did you "
                              "mean epochs?)")


def test_an_assignment_setting_of_the_wrong_type_is_named_with_what_it_must_be(tmp_path):
    path = _variant(tmp_path, '"learning_rate": 0.01', '"learning_rate": "0.01"')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: ASSIGNMENTS['part2_mnist']['settings']: learning_rate must be int or float, "
                              "not '0.01'")


def test_an_assignment_without_hooks_takes_no_settings(tmp_path):
    path = _variant(tmp_path, '"notebook": "part1_regression.ipynb",',
                    '"notebook": "part1_regression.ipynb", "settings": {"epochs": 2},')
    with pytest.raises(ConfigError, match=r"ASSIGNMENTS\['part1_regression'\]\['settings'\]: epochs is not a "
                                          "setting; it takes none$"):
        load_config(path)


def test_the_settings_an_assignment_declares_are_its_own(tmp_path):
    config = load_config()
    assert config.assignment("part1_regression").settings == {}
    assert config.assignment("part2_mnist").settings["epochs"] == 2
    changed = config.with_settings("part2_mnist", epochs=3)
    assert changed.assignment("part2_mnist").settings["epochs"] == 3
    assert config.assignment("part2_mnist").settings["epochs"] == 2


def test_a_misspelt_key_of_an_assignment_is_named(tmp_path):
    path = _variant(tmp_path, '"manual": {\n            "answer_argmax', '"manul": {\n            "answer_argmax')
    with pytest.raises(ConfigError, match=r"ASSIGNMENTS\['part1_regression'\]: manul is not a setting \(did you "
                                          r"mean manual\?\)"):
        load_config(path)


def test_an_assignment_without_a_folder_is_refused(tmp_path):
    path = _variant(tmp_path, '    "part2_mnist": {', '    "part2_mnist_v2": {')
    with pytest.raises(ConfigError, match=r"no autograder/assignments/part2_mnist_v2/trusted/checks.py\) "
                                          r"\(did you mean part2_mnist\?\)"):
        load_config(path)


def test_errors_name_the_file_in_use_not_the_default_one(tmp_path):
    path = tmp_path / "term2.py"
    path.write_text(DEFAULT_CONFIG.read_text().replace("MAX_PROCESSES = 256", "MAX_PROCESSES = 0"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: MAX_PROCESSES must be positive, not 0"
    with pytest.raises(ConfigError, match="term2.py defines: part1_regression, part2_mnist"):
        load_config().__class__.assignment(dataclasses.replace(load_config(), path=path), "part3")


def test_the_config_is_read_without_importing_torch():
    # An assignment's settings schema is read with the config: its hooks import torch only where data is read,
    # so a configuration mistake is reported at once.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import sys; from autograder.config import load_config; "
                           "load_config(); print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"],
                          capture_output=True, text=True, check=True, cwd=DEFAULT_CONFIG.parent)
    assert done.stdout.strip() == "[]"
