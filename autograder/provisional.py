"""Grades before and after a TA: what is auto-graded, what still awaits a TA, and whether a total is final.

nbgrader counts a written answer no TA has graded yet as 0 in its totals, so right after autograding
the reference solution reads 80/100. The kit states it instead: grades.csv gets the columns below, and
the feedback page (autograder.feedback.FeedbackPage) says the same in words.
"""
from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

COLUMNS = ("auto_score", "auto_max_score", "awaiting_ta_points", "grading_status")


def status(gb: Gradebook, assignment: str, student: str) -> dict[str, float | str]:
    """The COLUMNS of one submission: auto points earned and possible, manual points awaiting a TA, and
    'final' or 'provisional' (some written answer has no TA score yet)."""
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return {}
    auto = awaiting = auto_max = 0.0
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.cell_type == "code":
                auto += grade.auto_score or 0.0
                auto_max += grade.max_score
            elif grade.needs_manual_grade and grade.manual_score is None:
                awaiting += grade.max_score
    return {"auto_score": auto, "auto_max_score": auto_max, "awaiting_ta_points": awaiting,
            "grading_status": "provisional" if awaiting else "final"}


def annotate_grades(csv_path: Path, db_url: str, course_id: str) -> Path:
    """Add COLUMNS to nbgrader's grades CSV (its own columns are kept as they are)."""
    csv_path = Path(csv_path)
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return csv_path
    fields = list(rows[0]) + [c for c in COLUMNS if c not in rows[0]]
    with Gradebook(db_url, course_id) as gb:
        for row in rows:
            row.update(status(gb, row.get("assignment", ""), row.get("student_id", "")))
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return csv_path
