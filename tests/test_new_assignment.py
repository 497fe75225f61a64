"""`tensorgrade new-assignment NAME` in a fresh copy of the kit: the scaffold builds, releases with
nbgrader and grades (the reference full marks, the release's stub zero), and the kit's checks of the
scaffold's pieces pass, its starter mutant and variant catalogs included."""
from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.config import ConfigError
from autograder.paths import PROJECT_ROOT
from autograder.scaffold import add_config_entry

NAME = "part3_scaffolded"


def _kit(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the kit (as `git clone` gives it) with a virtualenv that borrows the installed libraries."""
    kit = tmp_path / "kit"
    shutil.copytree(PROJECT_ROOT, kit, ignore=shutil.ignore_patterns(".venv", ".git", ".cache", "__pycache__",
                                                                     "build", "gradebook.db"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(kit / ".venv")], check=True)
    site = next((kit / ".venv" / "lib").glob("python3*/site-packages"))
    (site / "borrowed.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{kit}\n")
    return kit, kit / ".venv" / "bin" / "python"


def _run(python: Path, kit: Path, *args: str) -> subprocess.CompletedProcess:
    path = f"{python.parent}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    done = subprocess.run([str(python), "-I", "-m", "autograder", *args], cwd=kit, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PATH": path})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.slow
def test_a_new_assignment_releases_and_grades_at_once(tmp_path):
    kit, python = _kit(tmp_path)
    _run(python, kit, "new-assignment", NAME)
    assert (kit / "release" / NAME / f"{NAME}.ipynb").is_file()
    _run(python, kit, "build-solutions", "--out", str(tmp_path / "solutions"))
    scores = {}
    for label, notebook in (("reference", tmp_path / "solutions" / NAME / f"{NAME}.ipynb"),
                            ("stub", kit / "release" / NAME / f"{NAME}.ipynb")):
        out = tmp_path / f"{label}.json"
        _run(python, kit, "grade", str(notebook), "--assignment", NAME, "--out", str(out))
        results = json.loads(out.read_text())
        scores[label] = (results["score"], sum(test["max_score"] for test in results["tests"]))
    assert scores == {"reference": (10, 10), "stub": (0, 10)}
    # The kit's checks of every assignment, and the scaffold's own catalogs graded: its mutant caught and named,
    # its variant given full marks (the other assignments' slow catalog tests are the kit's own, run elsewhere).
    done = subprocess.run([str(python), "-I", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                           "tests/test_consistency.py", "tests/test_mutants.py", "tests/test_variants.py",
                           "-k", f"not slow or {NAME}"], cwd=kit, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
    for test in (f"test_mutant_is_caught[{NAME}_adds_two]", f"test_kill_rate[{NAME}]", f"test_diagnosis_rate[{NAME}]",
                 f"test_variant_earns_full_marks[{NAME}_x_plus_x]",
                 f"test_every_configured_assignment_has_its_mutant_variant_and_diagnosis_catalogs[{NAME}]"):
        assert re.search(rf"^PASSED tests/\S+::{re.escape(test)}$", done.stdout, re.M), f"{test} did not pass"


def test_the_config_entry_is_added_inside_assignments_and_a_broken_config_is_left_as_it_was(tmp_path, monkeypatch):
    from autograder import config as config_module

    # The scaffold writes the folder (and its checks.py) before the entry; load_config refuses an entry without.
    defined = config_module.defined_checks
    monkeypatch.setattr(config_module, "defined_checks", lambda name: {"double_values"} if name == NAME
                        else defined(name))
    config = tmp_path / "course_config.py"
    shutil.copyfile(PROJECT_ROOT / "course_config.py", config)
    before = config.read_text()
    add_config_entry(config, NAME)
    after = config.read_text()
    assert after.startswith(before[:before.rindex("}")]) and f'"{NAME}": {{' in after
    broken = before.replace("ASSIGNMENTS = {", "ASSIGNMENTS = {  # hand-edited\n").rstrip("}\n") + "}  # end\n"
    config.write_text(broken)
    with pytest.raises(ConfigError):
        add_config_entry(config, NAME)
    assert config.read_text() == broken


@pytest.mark.slow
def test_a_new_assignment_with_a_trained_model_calibrates_on_first_grading_and_grades_end_to_end(tmp_path):
    import nbformat

    from autograder import nbgrader_cells

    name = "part3_trained"
    kit, python = _kit(tmp_path)
    _run(python, kit, "new-assignment", name, "--trained-model")
    trusted = kit / "autograder" / "assignments" / name / "trusted"
    assert (trusted / "hooks.py").is_file() and not (trusted / "calibrations.json").exists()
    _run(python, kit, "build-solutions", "--out", str(tmp_path / "solutions"))
    reference = tmp_path / "solutions" / name / f"{name}.ipynb"
    known_wrong = runpy.run_path(str(trusted / "known_wrong.py"))["KNOWN_WRONG"]
    function, source = known_wrong["never_steps"]
    wrong = nbformat.read(reference, as_version=4)
    nbgrader_cells.find(wrong.cells, function).source = source
    nbformat.write(wrong, tmp_path / "never_steps.ipynb")
    no_module = nbformat.read(reference, as_version=4)
    nbgrader_cells.find(no_module.cells, "Classifier").source = "class Classifier:\n    pass\n"
    nbformat.write(no_module, tmp_path / "not_a_module.ipynb")
    raises = nbformat.read(reference, as_version=4)
    nbgrader_cells.find(raises.cells, function).source = ("def train_epoch(model, loader, optimizer, loss_fn):\n"
                                                          "    raise ValueError('unfinished epoch')\n")
    nbformat.write(raises, tmp_path / "raises.ipynb")
    results, said = {}, {}
    for label, notebook in (("reference", reference), ("stub", kit / "release" / name / f"{name}.ipynb"),
                            ("never_steps", tmp_path / "never_steps.ipynb"),
                            ("not_a_module", tmp_path / "not_a_module.ipynb"), ("raises", tmp_path / "raises.ipynb")):
        out = tmp_path / f"{label}.json"
        said[label] = _run(python, kit, "grade", str(notebook), "--assignment", name, "--out", str(out)).stderr
        results[label] = json.loads(out.read_text())
    # the first grading calibrated the threshold, once, into the assignment's own trusted/ folder
    assert "calibrating it now, once" in said["reference"] and "calibrating" not in said["stub"]
    stored = json.loads((trusted / "calibrations.json").read_text())["calibrations"]
    assert len(stored) == 1 and stored[0]["data"]["source"] == "generated"
    threshold = stored[0]["threshold"]
    assert 0.5 < threshold < min(stored[0]["accuracies"])
    scores = {label: (r["score"], sum(test["max_score"] for test in r["tests"])) for label, r in results.items()}
    assert scores == {"reference": (10, 10), "stub": (0, 10), "never_steps": (0, 10), "not_a_module": (0, 10),
                      "raises": (0, 10)}
    failed = results["never_steps"]["tests"][0]["output"]
    assert f"expected at least {threshold:.1%} accuracy on 600 test points" in failed, failed
    assert "Data of this check: 3 Gaussian blobs (1,500 train / 600 test points" in failed
    assert "Likely mistake: training never changed the weights" in failed, failed
    # A Classifier that is no nn.Module: the probe still records every key (skips), and the check says what to fix.
    failed = results["not_a_module"]["tests"][0]["output"]
    assert "its trained fc1.weight: Classifier() did not make an nn.Module: define class Classifier(nn.Module)" \
        in failed, failed
    failed = results["raises"]["tests"][0]["output"]  # and a train_epoch that raised: the epochs after it skipped
    assert "its trained fc1.weight: not reached, because your code raised ValueError: unfinished epoch" in failed, \
        failed
    # The kit's checks, and the scaffold's own catalogs graded against the calibrated threshold: both mutants
    # caught and named from the evidence (trained weights equal to the initial ones; a negative loss), both
    # variants given full marks.
    done = subprocess.run([str(python), "-I", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                           "tests/test_consistency.py", "tests/test_engine_knows_no_assignment.py",
                           "tests/test_mutants.py", "tests/test_variants.py", "-k", f"not slow or {name}"],
                          cwd=kit, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
    for test in (f"test_mutant_is_caught[{name}_never_steps]", f"test_mutant_is_caught[{name}_gradient_ascent]",
                 f"test_kill_rate[{name}]", f"test_diagnosis_rate[{name}]",
                 f"test_variant_earns_full_marks[{name}_zero_grad_after_step]",
                 f"test_variant_earns_full_marks[{name}_relu_module]",
                 f"test_every_configured_assignment_has_its_mutant_variant_and_diagnosis_catalogs[{name}]",
                 f"test_every_expected_diagnosis_names_a_catalogued_mistake[{name}]"):
        assert re.search(rf"^PASSED tests/\S+::{re.escape(test)}$", done.stdout, re.M), f"{test} did not pass"
    assert f"{name} diagnosis rate: 2/2 right (100%), 0 wrong" in done.stdout, done.stdout[-3000:]
