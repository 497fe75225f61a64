"""Operating a course end to end: grader-side problems reach the log, the summary and the exit code; resubmissions
are regraded; the class report of a graded course; Gradescope's run_autograder run in a fake /autograder tree."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import traceback
import zipfile
from pathlib import Path

import pytest

from autograder import cli, grading
from autograder import course as course_module
from autograder.config import load_config
from autograder.gradescope import build_autograder_zip
from autograder.operator_checks import GRADED, GRADER_PROBLEMS
from autograder.paths import CourseLayout
from autograder.results import Status
from autograder.seeds import course_secret
from autograder.suite import INTERNAL_ERROR, Verdict
from tests.helpers import solution, validate_gradescope, with_functions, write
from tests.test_grading import SUM_NOT_MEAN, _course, _gradebook_scores
from tests.test_operate import open_in_chromium

P1, P2 = "part1_regression", "part2_mnist"
NOTEBOOK = "part1_regression.ipynb"


@contextlib.contextmanager
def _in_this_process(config, workers=None, scheduler=None, submissions=None):
    """A Dask engine whose one worker is a thread of this process (where the test's patches apply)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def _autograde(capsys, course: Path, *extra: str) -> tuple[int, str]:
    code = cli.main(["autograde", P1, "--course", str(course), *extra])
    return code, capsys.readouterr().out


def _graded(out: str) -> set[str]:
    return {line.split()[0] for line in out.splitlines() if line[:3] in ("ada", "bob", "cyd")}


@pytest.mark.slow
def test_grader_problems_are_logged_and_change_the_exit_code_and_resubmissions_are_regraded(tmp_path, capsys,
                                                                                           monkeypatch):
    course = _course(tmp_path, {"ada": solution(P1), "bob": with_functions(P1, {"loss_fn": SUM_NOT_MEAN}),
                                "cyd": '{"cells": [ this is not JSON'})
    real = grading.run_suite

    def suite_with_a_bug(*args, **kwargs):
        verdicts = real(*args, **kwargs)
        try:
            {}["reference_weights"]  # a bug in the grader, as a hidden suite might have
        except KeyError as err:
            verdicts["make_dnn_forward"] = Verdict(Status.GRADER_ERROR, INTERNAL_ERROR,
                                                   "".join(traceback.format_exception(err)))
        return verdicts

    monkeypatch.setattr(grading, "run_suite", suite_with_a_bug)
    monkeypatch.setattr(course_module, "engine", _in_this_process)  # so the patched suite is the one that runs
    code, out = _autograde(capsys, course)
    assert code == GRADER_PROBLEMS, out
    assert _graded(out) == {"ada", "bob", "cyd"}
    assert "isolation: " in out and "2 submission(s) met a problem on the grader's side" in out
    layout = CourseLayout(course)
    log = layout.submission_log("ada", P1).with_suffix(".log").read_text()
    for words in ("KeyError: 'reference_weights'", "Traceback", "phases (seconds):", "sandbox: ", "judge",
                  "child's log tail:", "isolation: "):
        assert words in log, words
    cyd = json.loads(layout.submission_log("cyd", P1).read_text())
    assert "not valid JSON" in cyd["unreadable"] and cyd["grader_problems"] == []
    with layout.checks_csv().open(newline="") as f:
        rows = list(csv.reader(f))  # messages may hold line breaks (a named mistake on its own line)
    assert len(rows) == 1 + 3 * 20

    monkeypatch.setattr(grading, "run_suite", real)
    code, out = _autograde(capsys, course)
    assert (code, _graded(out)) == (GRADED, set()), out
    assert "all were graded already" in out

    write(solution(P1), layout.submitted("bob", P1) / NOTEBOOK)  # bob resubmits
    code, out = _autograde(capsys, course)
    assert (code, _graded(out)) == (GRADED, {"bob"}), out
    assert sum(_gradebook_scores(course, "bob").values()) == 80

    code, out = _autograde(capsys, course, "--student", "ada", "--force")
    assert (code, _graded(out)) == (GRADED, {"ada"}), out
    assert sum(_gradebook_scores(course, "ada").values()) == 80

    assert cli.main(["report", P1, "--course", str(course)]) == GRADED
    out = capsys.readouterr().out
    assert "not graded or grader problem: cyd" in out
    measured = open_in_chromium(layout.report(P1))
    assert len(measured["imgs"]) == 3 and all(i["ok"] and i["w"] > 0 for i in measured["imgs"]), measured
    assert measured["scrollWidth"] <= 1280 and measured["wide"] == [], measured


@pytest.mark.slow
def test_gradescope_zip_run_autograder_grades_a_submission_in_a_fake_autograder_tree(tmp_path):
    """The zip's run_autograder, run as Gradescope would but in a temporary folder standing in for /autograder
    (AUTOGRADER_ROOT) and with this virtualenv's Python (TENSORGRADE_PYTHON) instead of setup.sh's."""
    config = load_config()
    zipped = build_autograder_zip(config, P1, tmp_path / "autograder.zip")
    with zipfile.ZipFile(zipped) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        zf.extractall(tmp_path / "autograder" / "source")
    assert {"setup.sh", "run_autograder", "tensorgrade/autograder/assignments/part1_regression/trusted/checks.py",
            "tensorgrade/solutions/part1_regression.py", f"tensorgrade/release/{P1}/{NOTEBOOK}",
            "tensorgrade/course_config.py", "tensorgrade/.cache/grading-secret"} <= names
    assert not any(n.startswith(("tensorgrade/tests/", "tensorgrade/.venv/")) or "__pycache__" in n for n in names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert modes["tensorgrade/.cache/grading-secret"] & 0o077 == 0, "the secret is readable by others"
    root = tmp_path / "autograder"
    kit = root / "source" / "tensorgrade"
    assert (kit / ".cache" / "grading-secret").read_text().strip().encode() == course_secret(
        config.grading_secret_file)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    write(with_functions(P1, {"loss_fn": SUM_NOT_MEAN}), root / "submission" / "my work" / "mine.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "ada@example.edu"}]}))
    env = {k: v for k, v in os.environ.items() if k != "TENSORGRADE_CONFIG"}
    env.update(AUTOGRADER_ROOT=str(root), TENSORGRADE_PYTHON=sys.executable,
               PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"kit {kit}" in done.stdout, done.stdout  # the zip's kit graded, not this checkout
    results = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(results)
    failed = {t["name"] for t in results["tests"] if t["status"] == "failed"}
    assert failed == {"loss_fn_value", "loss_fn_is_scalar", "loss_fn_gradient"}, results
    assert results["score"] == 80 - 10 and results["stdout_visibility"] == "hidden"
    # What the child must never read under weak isolation (it runs as nobody) is readable by root alone.
    for trusted in (".cache/grading-secret", "solutions", f"autograder/assignments/{P1}/trusted",
                    f"autograder/assignments/{P2}/trusted", "autograder/assignments/pytest.ini"):
        assert (kit / trusted).stat().st_mode & 0o077 == 0, trusted
    assert (kit / "autograder" / "assignments" / P1 / "trusted" / "checks.py").is_file(), "the hidden checks shipped"
    assert (kit / "autograder" / "assignments" / P1 / "child" / "probes.py").stat().st_mode & 0o004, \
        "the child's side hidden"


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.mark.slow
def test_readme_workflow_in_a_fresh_course_repository_leaves_no_grade_or_secret_for_git(tmp_path):
    """README's "Instructors" workflow, run in the repository as the course directory, with tensorgrade and
    nbgrader as README calls them: every output that holds grades or the secret exists, and git sees none."""
    from autograder.paths import PROJECT_ROOT
    from autograder.sandbox.limits import isolation

    course = tmp_path / "course"
    for name in _git("ls-files", cwd=PROJECT_ROOT).splitlines():
        if (PROJECT_ROOT / name).is_file():
            (course / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, course / name)
    if not isolation().full:  # a machine that cannot isolate fully: the course allows it, in its committed config
        config = course / "course_config.py"
        config.write_text(config.read_text().replace("ALLOW_WEAK_ISOLATION = False", "ALLOW_WEAK_ISOLATION = True"))
    _git("init", "-q", cwd=course)
    _git("add", "-A", cwd=course)
    _git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "the course", cwd=course)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": str(course)}
    env.pop("TENSORGRADE_CONFIG", None)
    env.pop("TENSORGRADE_CACHE", None)

    def run(*command: str) -> None:
        done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"

    run("tensorgrade", "release")
    write(solution(P1), course / "submitted" / "ada" / P1 / NOTEBOOK)
    run("tensorgrade", "autograde", P1)
    run("nbgrader", "autograde", P1, "--force")
    run("tensorgrade", "report", P1)
    run("tensorgrade", "gradescope", P1)
    run("tensorgrade", "grade", f"submitted/ada/{P1}/{NOTEBOOK}", "--assignment", P1)
    run("nbgrader", "export")
    outputs = ["gradebook.db", "grades.csv", "checks.csv", f"logs/{P1}/ada.json", f"reports/{P1}/index.html",
               f"feedback/ada/{P1}", f"autograded/ada/{P1}", f"{P1}-autograder.zip", "results.json",
               ".cache/grading-secret", "exchange"]
    assert [o for o in outputs if not (course / o).exists()] == []
    assert _git("status", "--porcelain", "--untracked-files=all", cwd=course) == ""

    subprocess.run(["make", "clean"], cwd=course, check=True, capture_output=True)
    assert (course / ".cache" / "grading-secret").is_file() and (course / "gradebook.db").is_file()


def _in_memory_cgroup(limit_mb: int):
    """A preexec_fn that moves the new process into a fresh v1 memory cgroup of `limit_mb` (a container's limit),
    and the cgroup; None where this machine has no writable v1 memory cgroup."""
    base = Path("/sys/fs/cgroup/memory")
    own = next((line.split(":", 2)[2] for line in Path("/proc/self/cgroup").read_text().splitlines()
                if "memory" in line.split(":", 2)[1].split(",")), None)
    if own is None or not os.access(base / own.lstrip("/"), os.W_OK):
        return None, None
    cgroup = base / own.lstrip("/") / f"tensorgrade-test-{os.getpid()}-{limit_mb}"
    cgroup.mkdir(exist_ok=True)
    (cgroup / "memory.limit_in_bytes").write_text(str(limit_mb * 1024 * 1024))
    return (lambda: (cgroup / "cgroup.procs").write_text(str(os.getpid()))), cgroup


def test_run_autograder_killed_for_memory_says_so_in_plain_words(tmp_path):
    from autograder.gradescope import CONTAINER_MB, OUT_OF_MEMORY

    enter, cgroup = _in_memory_cgroup(200)  # far too small: the grader is killed importing torch
    if enter is None:
        pytest.skip("no writable v1 memory cgroup here (/sys/fs/cgroup/memory) to stand in for a container")
    zipped = build_autograder_zip(load_config(), P1, tmp_path / "autograder.zip")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(root / "source")
        assert f"at least {CONTAINER_MB} MB of memory" in zf.read("README.txt").decode()
    (root / "source" / "run_autograder").chmod(0o755)
    write(solution(P1), root / "submission" / NOTEBOOK)
    env = {k: v for k, v in os.environ.items() if k != "TENSORGRADE_CONFIG"}
    env.update(AUTOGRADER_ROOT=str(root), TENSORGRADE_PYTHON=sys.executable)
    try:
        done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                              timeout=300, preexec_fn=enter)
    finally:
        cgroup.rmdir()
    assert done.returncode == 137, done.stdout[-2000:] + done.stderr[-2000:]
    assert ("the grader was killed (SIGKILL) while grading, almost certainly because the container ran out of "
            f"memory: this autograder needs at least {CONTAINER_MB} MB") in done.stdout
    assert json.loads((root / "results" / "results.json").read_text()) == OUT_OF_MEMORY
