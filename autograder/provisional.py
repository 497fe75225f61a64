"""Grades before and after a TA: what is auto-graded, what still awaits a TA, and whether a total is final.

nbgrader counts a written answer no TA has graded yet as 0 in its totals, so right after autograding
the reference solution reads 80/100. The kit states it instead, in the one vocabulary of
autograder.results.Totals: grades.csv gets the COLUMNS below, whether the kit writes it (tensorgrade autograde,
make demo) or `nbgrader export` does (the kit's nbgrader config makes ProvisionalCsvExport its exporter), and
the feedback page (autograder.feedback.FeedbackPage) says the same in words.
"""
from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import CsvExportPlugin

from .results import Totals

COLUMNS = ("auto_score", "auto_max_score", "awaiting_ta_points", "grading_status")


def totals(gb: Gradebook, assignment: str, student: str) -> Totals | None:
    """A submission's totals as gradebook.db holds them now (a TA's grades included), or None."""
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return None
    auto = auto_max = awaiting = written = written_max = 0.0
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.cell_type == "code":
                auto += grade.auto_score or 0.0
                auto_max += grade.max_score
            elif grade.needs_manual_grade and grade.manual_score is None:
                awaiting += grade.max_score
            else:
                written += grade.score or 0.0
                written_max += grade.max_score
    return Totals(auto, auto_max, awaiting, written, written_max)


def status(gb: Gradebook, assignment: str, student: str) -> dict[str, float | str]:
    """The COLUMNS of one submission: auto points earned and possible, manual points awaiting a TA, and
    'final' or 'provisional' (some written answer has no TA score yet)."""
    found = totals(gb, assignment, student)
    if found is None:
        return {}
    return {"auto_score": found.auto_score, "auto_max_score": found.auto_max, "awaiting_ta_points": found.awaiting_ta,
            "grading_status": found.status}


def annotate(csv_path: Path, gb: Gradebook) -> Path:
    """Add COLUMNS to nbgrader's grades CSV (its own columns are kept as they are)."""
    csv_path = Path(csv_path)
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return csv_path
    fields = list(rows[0]) + [c for c in COLUMNS if c not in rows[0]]
    for row in rows:
        row.update(status(gb, row.get("assignment", ""), row.get("student_id", "")))
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return csv_path


class ProvisionalCsvExport(CsvExportPlugin):
    """nbgrader's CSV export plus the kit's COLUMNS: what `nbgrader export` and the kit's export both write."""

    def export(self, gradebook: Gradebook) -> None:
        super().export(gradebook)
        annotate(Path(self.to or "grades.csv"), gradebook)
