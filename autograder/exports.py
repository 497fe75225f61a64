"""Per-check data out of the kit: a long-format CSV beside nbgrader's grades.csv (which holds totals only).

One row per student, assignment and check, from the submission logs (autograder.submission_log): the
gradebook keeps one score per nbgrader cell, the logs keep every check inside it.
"""
from __future__ import annotations

import csv
from pathlib import Path

from .config import CourseConfig
from .paths import CourseLayout
from .submission_log import read_logs

COLUMNS = ("student", "assignment", "check", "grade_id", "status", "needs", "points", "max_points", "message")


def check_rows(course_root: Path, assignment: str) -> list[dict]:
    """The long-format rows of one assignment: one per student and check, students sorted. `status` is the
    check's Status (passed, failed, not credited, absent, grader error); `needs`, the check a not-credited one
    needs."""
    rows = []
    for record in read_logs(CourseLayout(course_root), assignment):
        for check in record.checks:
            rows.append({"student": record.student, "assignment": assignment, "check": check.name,
                         "grade_id": check.grade_id, "status": check.status.value, "needs": check.needs,
                         "points": check.score, "max_points": check.max_score,
                         "message": "" if check.passed else check.output})
    return rows


def export_checks(course_root: Path, config: CourseConfig, dest: Path | None = None) -> Path:
    """Write checks.csv (every assignment of the course, long format); returns its path."""
    dest = Path(dest or CourseLayout(course_root).checks_csv())
    with open(dest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for assignment in config.assignments:
            writer.writerows(check_rows(course_root, assignment))
    return dest
