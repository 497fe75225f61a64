"""What an assignment adds to the engine comes from its hooks; an assignment without a hooks.py gets the defaults."""
from __future__ import annotations

from autograder.config import load_config
from autograder.grading import grading_inputs
from autograder.hooks import of

P1, P2 = "part1_regression", "part2_mnist"


def test_an_assignment_without_hooks_has_no_settings_data_secrets_or_calibration():
    config = load_config()
    hooks = of(P1)
    assert hooks.module is None and hooks.settings == {} and hooks.secret_inputs == frozenset()
    assert hooks.data_inputs(config) == {} and hooks.data_fingerprint(config) is None
    assert hooks.host_folders(config) == [] and hooks.check_notes(config) == {}
    assert hooks.calibrated_check is None


def test_the_secret_inputs_are_the_ones_the_assignment_declares_and_exist_among_its_inputs():
    config = load_config()
    secret = of(P2).secret_inputs
    assert secret == {"secret_test_images", "secret_test_labels"}
    assert secret <= set(grading_inputs(P2, config, seed=1))


def test_the_data_is_hidden_from_the_child_and_stated_in_the_calibrated_checks_output():
    config = load_config()
    hooks = of(P2)
    assert hooks.calibrated_check in config.assignment(P2).checks
    assert set(hooks.check_notes(config)) == {hooks.calibrated_check}
    assert hooks.check_notes(config)[hooks.calibrated_check].startswith("Data of this check: MNIST")
    folders = hooks.host_folders(config)
    assert "/usr/share/datasets" in folders and any(f.endswith("data") for f in folders)
