"""End-to-end grading: the CLI, determinism, and nbgrader's gradebook agreeing with the CLI."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder import paths
from autograder.batch import grade_many
from autograder.config import load_config
from autograder.paths import PROJECT_ROOT
from autograder.pending import is_recorded
from tests.helpers import ASSIGNMENTS, as_json, solution, test_config, validate_gradescope, with_functions, write

CONFIG = load_config()
SUM_NOT_MEAN = "def loss_fn(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).sum()\n"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory) -> dict[tuple[str, str], dict]:
    """results.json of the solution and release notebooks of every assignment, graded by the CLI, two at a time."""
    runs = {}
    for assignment in ASSIGNMENTS:
        nb_dir = tmp_path_factory.mktemp(f"nb-{assignment}")
        solution_path = write(solution(assignment), nb_dir / "solution.ipynb")
        release_path = paths.release_notebook(assignment, CONFIG.assignment(assignment).notebook)
        for kind, path in (("solution", solution_path), ("release", release_path)):
            runs[(assignment, kind)] = (path, tmp_path_factory.mktemp(f"cwd-{assignment}-{kind}"))

    def grade(key: tuple[str, str]) -> subprocess.CompletedProcess:
        path, cwd = runs[key]
        return _cli("grade", str(path), "--assignment", key[0], "--out", "results.json", cwd=cwd)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(runs, pool.map(grade, runs)))
    results = {}
    for key, (_, cwd) in runs.items():
        assert done[key].returncode == 0, done[key].stderr
        assert sorted(p.name for p in cwd.iterdir()) == ["results.json"], "the CLI wrote other files"
        results[key] = json.loads((cwd / "results.json").read_text())
    return results


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_gets_full_marks_on_every_autograded_check(cli_results, assignment):
    result = cli_results[(assignment, "solution")]
    auto = [t for t in result["tests"] if t.get("status") != "needs_manual_grade"]
    assert [t["name"] for t in auto if t["score"] != t["max_score"]] == []
    assert result["score"] == sum(CONFIG.assignment(assignment).check_points.values())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_gets_zero(cli_results, assignment):
    result = cli_results[(assignment, "release")]
    assert result["score"] == 0
    # A structural check that passes on a stub's evidence is gated by the value check it requires (suite.gated),
    # and where that one found no code, it says so too: every check of a stub is absent code.
    assert all("not implemented yet" in t["output"] or t["output"].startswith("needs ")
               for t in result["tests"] if t["max_score"] and t.get("status") != "needs_manual_grade")
    assert {t["tags"][1] for t in result["tests"]} <= {"absent", "not credited"}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_results_json_follows_gradescopes_format_without_manual_cells(cli_results, assignment):
    result = cli_results[(assignment, "solution")]
    validate_gradescope(result)
    assert "max_score" not in result
    assert {t["name"] for t in result["tests"]} == set(CONFIG.assignment(assignment).check_points)
    assert sum(t["max_score"] for t in result["tests"]) + sum(CONFIG.assignment(assignment).manual.values()) == 100


# A wrong model whose error comes from random numbers drawn without a seed of the student's own:
# the feedback quotes the value it got, so it must be the same draw every time.
UNSEEDED_OFFSET = ("import random\nimport numpy as np\n"
                   "OFFSET = random.random() + float(np.random.rand()) + torch.rand(1).item()\n"
                   "def model(x, w, b):\n    return w * x + b + OFFSET\n")


@pytest.mark.slow
def test_grading_one_notebook_twice_gives_identical_json(tmp_path):
    path = write(with_functions("part1_regression", {"loss_fn": SUM_NOT_MEAN}), tmp_path / "a.ipynb")
    path2 = write(solution("part2_mnist"), tmp_path / "b.ipynb")
    path3 = write(with_functions("part1_regression", {"model": UNSEEDED_OFFSET}), tmp_path / "c.ipynb")
    first = grade_many([(path, "part1_regression"), (path2, "part2_mnist"), (path3, "part1_regression")],
                       test_config())
    second = grade_many([(path3, "part1_regression"), (path2, "part2_mnist"), (path, "part1_regression")],
                        test_config())
    assert as_json(first[0]) == as_json(second[2])
    assert as_json(first[1]) == as_json(second[1])
    assert as_json(first[2]) == as_json(second[0])
    assert "model_values" in {c.name for c in first[2].checks if not c.passed}


def _course(tmp_path: Path, submissions: dict[str, object]) -> Path:
    course = tmp_path / "course"
    shutil.copytree(paths.SOURCE_DIR / "part1_regression", course / "source" / "part1_regression")
    shutil.copyfile(PROJECT_ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "part1_regression", "--force",
                    "--log-level=ERROR"], cwd=course, env=env, check=True)
    for student, nb in submissions.items():
        write(nb, course / "submitted" / student / "part1_regression" / "part1_regression.ipynb")
    return course


def _gradebook_scores(course: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", CONFIG.course_id) as gb:
        nb = gb.find_submission_notebook("part1_regression", "part1_regression", student)
        return {g.name: g.score for g in nb.grades if g.cell_type == "code"}


@pytest.mark.slow
def test_nbgrader_autograde_stores_the_same_scores_as_the_cli(tmp_path):
    wrong = with_functions("part1_regression", {"loss_fn": SUM_NOT_MEAN})
    course = _course(tmp_path, {"ada": solution("part1_regression"), "bob": wrong})
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "part1_regression"], cwd=course,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for student in ("ada", "bob"):
        path = course / "submitted" / student / "part1_regression" / "part1_regression.ipynb"
        report = grade_many([(path, "part1_regression")], CONFIG)[0]
        expected = {gid: sum(c.score for c in checks) for gid, checks in report.by_grade_id().items()}
        assert _gradebook_scores(course, student) == expected, student
    for cmd in (["generate_feedback", "part1_regression"], ["export", "--to", "grades.csv"]):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *cmd], cwd=course, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    assert list((course / "feedback" / "bob" / "part1_regression").glob("*.html"))
    assert "bob" in (course / "grades.csv").read_text()


@pytest.mark.slow
def test_batch_killed_halfway_then_rerun_grades_every_submission_once(tmp_path):
    students = {f"s{i}": solution("part1_regression") for i in range(4)}
    course = _course(tmp_path, students)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    cmd = [sys.executable, "-m", "autograder", "autograde", "part1_regression", "--course", str(course)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not any(is_recorded(course, CONFIG.course_id, "part1_regression", s) for s in students):
        assert time.monotonic() < deadline and proc.poll() is None, "the batch recorded nothing"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    recorded_before = {s for s in students if is_recorded(course, CONFIG.course_id, "part1_regression", s)}
    assert recorded_before != set(students), "the batch finished before it could be killed"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    graded_again = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("s")}
    assert graded_again == set(students) - recorded_before, "rerun must grade exactly the rest"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", CONFIG.course_id) as gb:
        submissions = gb.find_assignment("part1_regression").submissions
        assert sorted(s.student.id for s in submissions) == sorted(students)
    for student in students:
        assert sum(_gradebook_scores(course, student).values()) == 80, student


@pytest.mark.slow
def test_a_kit_installed_under_tmp_still_imports_from_its_virtualenv(tmp_path):
    """The sandbox covers /tmp with a private tmpfs; a kit (and its .venv) cloned under /tmp must stay
    importable there, or a correct function that imports a module lazily loses its points."""
    if not tmp_path.is_relative_to("/tmp"):
        pytest.skip("pytest's temporary folder is not under /tmp")
    kit = tmp_path / "kit"
    shutil.copytree(PROJECT_ROOT, kit, ignore=shutil.ignore_patterns(".venv", ".git", ".cache", "__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(kit / ".venv")], check=True)
    site = next((kit / ".venv" / "lib").glob("python3*/site-packages"))
    # This venv borrows the installed libraries and adds the kit, plus one module of its own.
    (site / "borrowed.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{kit}\n")
    (site / "tg_lazy_module.py").write_text("ANSWER = 42\n")
    notebook = with_functions("part1_regression", {"predict_classes": (
        "def predict_classes(scores):\n    import tg_lazy_module  # first imported while grading\n"
        "    return scores.argmax(dim=1)\n")})
    path = write(notebook, tmp_path / "lazy.ipynb")
    done = subprocess.run([str(kit / ".venv" / "bin" / "python"), "-I", "-m", "autograder", "grade", str(path),
                           "--assignment", "part1_regression", "--out", str(tmp_path / "results.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    lost = {t["name"]: t["output"] for t in results["tests"] if t["score"] < t["max_score"]
            and t.get("status") != "needs_manual_grade"}
    assert lost == {}


def _sanitized(course: Path, nb) -> list[str]:
    """nbgrader's warnings while the kit's OverwriteReleasedCells sanitizes `nb` against the course's gradebook."""
    import logging

    from autograder.nbgrader_plugin import OverwriteReleasedCells

    warned: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warned.append(record.getMessage())
    log = logging.getLogger(f"overwrite-{id(nb)}")
    log.addHandler(handler)
    step = OverwriteReleasedCells(log=log)
    step.preprocess(nb, {"nbgrader": {"notebook": "part1_regression", "assignment": "part1_regression",
                                      "db_url": f"sqlite:///{course / 'gradebook.db'}"}})
    return warned


def test_a_notebook_as_released_gets_no_tampering_warning_and_an_edited_locked_cell_still_does(tmp_path):
    import nbformat

    from autograder import nbgrader_cells

    course = _course(tmp_path, {})
    release = course / "release" / "part1_regression" / "part1_regression.ipynb"
    untouched = nbformat.read(release, as_version=4)
    hidden = [c for c in untouched.cells if nbgrader_cells.is_locked(c) and nbgrader_cells.is_grade(c)]
    assert hidden, "the release has locked graded cells (nbgrader keeps them with their hidden tests)"
    assert _sanitized(course, untouched) == [], "no 'checksum has changed' for a cell exactly as released"
    edited = nbformat.read(release, as_version=4)
    cell = nbgrader_cells.find(edited.cells, nbgrader_cells.grade_id(hidden[0]))
    cell.source += "\nassert True  # the student's edit"
    warned = _sanitized(course, edited)
    assert any(f"Attribute 'checksum' for cell {nbgrader_cells.grade_id(hidden[0])} has changed" in w
               for w in warned), warned
    assert "the student's edit" not in cell.source, "nbgrader restored the locked cell"
