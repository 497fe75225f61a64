"""Which submissions a batch grades: those not recorded in gradebook.db yet, or handed in again since.

The command asks before anything heavy is imported (no torch, no grader): how many there are decides the engine
it starts (autograder.engine).
"""
from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .config import CourseConfig
from .paths import CourseLayout
from .submission_log import fingerprint, read_log


def gradebook_url(course_root: Path) -> str:
    """The course's gradebook.db as nbgrader opens it."""
    return f"sqlite:///{CourseLayout(course_root).gradebook}"


def is_recorded(course_root: Path, course_id: str, assignment: str, student: str) -> bool:
    """Whether gradebook.db holds an autograde score for every autograded cell of this submission."""
    if not CourseLayout(course_root).gradebook.exists():
        return False
    with Gradebook(gradebook_url(course_root), course_id) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return False
        grades = [g for nb in submission.notebooks for g in nb.grades if g.cell_type == "code"]
        return bool(grades) and all(g.auto_score is not None for g in grades)


def needs_grading(course_root: Path, course_id: str, assignment: str, student: str, notebook: Path) -> bool:
    """Not recorded yet, or the submitted notebook is newer than its recorded grade.

    Newer: its SHA-256 differs from the one in the submission's log; where no log exists (graded by
    `nbgrader autograde` itself), its file is newer than nbgrader's autograded copy.
    """
    if not is_recorded(course_root, course_id, assignment, student):
        return True
    layout = CourseLayout(course_root)
    logged = read_log(layout, student, assignment)
    if logged is not None:
        return logged.sha256 != fingerprint(notebook)
    graded = layout.autograded(student, assignment) / notebook.name
    try:
        return notebook.stat().st_mtime > graded.stat().st_mtime
    except OSError:
        return True


def select_submissions(assignment: str, course_root: Path, config: CourseConfig, students: list[str] | None = None,
                       force: bool = False) -> list[str]:
    """The students the batch grades: those named (default: all who submitted), all of them with `force`,
    else only those not recorded yet or resubmitted since (needs_grading)."""
    layout = CourseLayout(course_root)
    chosen = [s for s in layout.students(assignment) if not students or s in students]
    if force:
        return chosen
    notebook = config.assignment(assignment).notebook
    return [s for s in chosen
            if needs_grading(course_root, config.course_id, assignment, s, layout.submitted(s, assignment) / notebook)]
