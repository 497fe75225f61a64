"""One grade record: the demo course graded once, and every view of each student's grade (the batch summary, the
submission log, grades.csv from the kit and from `nbgrader export`, checks.csv, results.json, the class report,
gradebook.db) gives the same numbers and statuses, in the one vocabulary of autograder.results.Totals."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.course import autograde_course, export_grades
from autograder.demo import make_course
from autograder.exports import check_rows, export_checks
from autograder.paths import CourseLayout
from autograder.provisional import totals
from autograder.report import findings
from autograder.results import Status
from autograder.submission_log import read_logs
from tests.helpers import test_config


def _rows(path: Path) -> dict[tuple[str, str], dict]:
    with open(path, newline="") as f:
        return {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def graded_demo(tmp_path_factory) -> tuple[Path, dict]:
    """The demo course autograded by the batch, exported by the kit and by `nbgrader export`."""
    root = tmp_path_factory.mktemp("one-record") / "course"
    config = test_config()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", env["PATH"])
        make_course(root, config)
        outcomes = {a: autograde_course(a, root, config, progress=False) for a in config.assignments}
        export_grades(root, config.course_id, CourseLayout(root).grades_csv())
        export_checks(root, config)
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "nbgrader_export.csv"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root, outcomes


@pytest.mark.slow
def test_every_view_gives_each_student_the_same_totals_and_check_statuses(graded_demo):
    root, outcomes = graded_demo
    layout = CourseLayout(root)
    config = test_config()
    kit_csv, nbgrader_csv = _rows(layout.grades_csv()), _rows(root / "nbgrader_export.csv")
    seen = 0
    for assignment, batch in outcomes.items():
        logs = {r.student: r for r in read_logs(layout, assignment)}
        per_check = {}
        for row in check_rows(root, assignment):
            per_check.setdefault(row["student"], []).append(row)
        graded = findings(list(logs.values()))
        submitted = {s for (a, s), row in kit_csv.items() if a == assignment and row["auto_score"] != ""}
        assert {o.student for o in batch} == set(logs) == submitted
        for outcome in batch:
            record = logs[outcome.student]  # the log, read back as the record type
            t = record.totals
            assert outcome.report.totals == t and t.text() in outcome.summary(), outcome.student
            for exported in (kit_csv, nbgrader_csv):  # the provisional columns survive `nbgrader export`
                row = exported[(assignment, outcome.student)]
                assert (float(row["auto_score"]), float(row["auto_max_score"]), float(row["awaiting_ta_points"]),
                        row["grading_status"]) == (t.auto_score, t.auto_max, t.awaiting_ta, t.status), row
                assert float(row["raw_score"]) == t.auto_score + t.written_score, "nbgrader's total, no TA yet"
            with Gradebook(f"sqlite:///{layout.gradebook}", config.course_id) as gb:
                assert totals(gb, assignment, outcome.student) == t
            rows = per_check[outcome.student]
            assert sum(r["points"] for r in rows) == t.auto_score
            assert [(r["check"], r["status"], r["needs"]) for r in rows] == [
                (c.name, c.status.value, c.needs) for c in record.checks]
            results = record.to_gradescope()
            assert results["score"] == t.auto_score and results["output"].startswith(f"Total: {t.text()}.")
            assert [x["tags"][1] for x in results["tests"]] == [c.status.value for c in record.checks]
            if not record.unreadable:
                assert t.auto_score in graded.scores
            else:
                assert outcome.student in graded.unreadable
            seen += 1
    assert seen == sum(len(b) for b in outcomes.values()) > 8
    statuses = {row["grading_status"] for row in nbgrader_csv.values()}
    assert "provisional" in statuses, "a written answer awaiting a TA makes the grade provisional in nbgrader's export"


@pytest.mark.slow
def test_a_dependent_check_reads_not_credited_and_points_to_the_check_it_needs(graded_demo):
    root, _ = graded_demo
    logs = {r.student: r for r in read_logs(CourseLayout(root), "part1_regression")}
    not_credited = [c for c in logs["no_zero_grad"].checks if c.status is Status.NOT_CREDITED]
    assert not_credited, [c.line() for c in logs["no_zero_grad"].checks]
    for check in not_credited:
        assert check.needs and check.output == f"needs {check.needs}, which did not pass: see {check.needs}'s message"
        assert check.line().startswith(f"[NOT CREDITED] {check.name} (0/")
        needed = next(c for c in logs["no_zero_grad"].checks if c.name == check.needs)
        assert needed.failed_on_its_own
    rows = [r for r in check_rows(root, "part1_regression") if r["student"] == "no_zero_grad"]
    assert {(r["status"], r["needs"]) for r in rows if r["status"] == "not credited"} == {
        ("not credited", c.needs) for c in not_credited}
    rates = dict(findings(list(logs.values())).failure_rates)
    readable = [r for r in logs.values() if not r.unreadable]
    for check in not_credited:  # among the hardest only for the students whose check failed on its own
        own = sum(c.failed_on_its_own for r in readable for c in r.checks if c.name == check.name)
        assert rates[check.name] == pytest.approx(own / len(readable)), check.name
