"""Autograde every submission of an assignment in an nbgrader course directory.

Sandboxes run PARALLEL_SUBMISSIONS at a time; each finished submission is then recorded
through nbgrader's own autograde (in this process, so torch and the suites load once).
A submission counts as done only when gradebook.db holds a score for every autograded
cell, so a batch killed halfway and run again grades exactly the rest.
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tqdm import tqdm
from traitlets.config import Config

from .batch import grade_many
from .calibration import check_calibrated
from .config import CourseConfig
from .nbgrader_plugin import remember
from .nbgrader_setup import configure
from .paths import CourseLayout
from .provisional import annotate_grades
from .submission import SubmissionError, read_notebook


@dataclass
class Outcome:
    """One student's result in the batch."""

    student: str
    score: float
    max_score: float
    seconds: float
    problem: str = ""
    isolation: str = ""  # the weak isolation it was graded with (ALLOW_WEAK_ISOLATION), else ""


def nbgrader_api(course_root: Path):
    """nbgrader's API object for this course directory, configured from course_config.py."""
    from nbgrader.apps import NbGraderAPI

    c = Config()
    configure(c, course_root)
    c.NbGraderAPI.log_level = "ERROR"
    # nbgrader's own session handling warns on every autograde; the warnings are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    return NbGraderAPI(config=c)


def _db_url(course_root: Path) -> str:
    return f"sqlite:///{CourseLayout(course_root).gradebook}"


def is_recorded(course_root: Path, course_id: str, assignment: str, student: str) -> bool:
    """Whether gradebook.db holds an autograde score for every autograded cell of this submission."""
    if not CourseLayout(course_root).gradebook.exists():
        return False
    with Gradebook(_db_url(course_root), course_id) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return False
        grades = [g for nb in submission.notebooks for g in nb.grades if g.cell_type == "code"]
        return bool(grades) and all(g.auto_score is not None for g in grades)


def _record_zero(course_root: Path, course_id: str, assignment: str, student: str) -> None:
    """Give every autograded cell 0 where nbgrader itself could not read the notebook."""
    with Gradebook(_db_url(course_root), course_id) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = gb.update_or_create_submission(assignment, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.cell_type == "code":
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        gb.db.commit()


def _record_isolation(course_root: Path, course_id: str, assignment: str, student: str, notebook: str,
                      first_answer: str | None, note: str) -> None:
    """Put the note on weak isolation into the gradebook comment of the submission's first answer cell."""
    if first_answer is None:
        return
    with Gradebook(_db_url(course_root), course_id) as gb:
        try:
            comment = gb.find_comment(first_answer, Path(notebook).stem, assignment, student)
        except MissingEntry:
            return
        comment.auto_comment = f"{comment.auto_comment}\n\n{note}" if comment.auto_comment else note
        gb.db.commit()


def _first_answer(nb) -> str | None:
    """The grade id of the notebook's first solution cell (nbgrader keeps a comment for each)."""
    return next((c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution")), None)


def autograde_course(assignment: str, course_root: Path, config: CourseConfig,
                     progress: bool = True) -> list[Outcome]:
    """Autograde every not-yet-recorded submission; return one Outcome per graded student."""
    check_calibrated(config, assignment)
    course_root = Path(course_root).resolve()
    layout = CourseLayout(course_root)
    spec = config.assignment(assignment)
    api = nbgrader_api(course_root)
    students = layout.students(assignment)
    pending = [s for s in students if not is_recorded(course_root, config.course_id, assignment, s)]
    outcomes: list[Outcome] = []
    bar = tqdm(total=len(pending), desc=f"autograde {assignment}", unit="submission", disable=not progress,
               file=sys.stderr)
    step = max(1, config.parallel_submissions)
    for start in range(0, len(pending), step):
        chunk = pending[start:start + step]
        paths = [layout.submitted(s, assignment) / spec.notebook for s in chunk]
        reports = grade_many([(p, assignment, s) for p, s in zip(paths, chunk)], config, course_root=course_root)
        for student, path, report in zip(chunk, paths, reports):
            problem, nb = "", None
            try:
                nb = read_notebook(path)
                remember(nb, assignment, report)
            except SubmissionError as err:
                problem = str(err)
            result = api.autograde(assignment, student, force=True, create=True)
            if not result.get("success"):
                _record_zero(course_root, config.course_id, assignment, student)
                problem = problem or "nbgrader could not autograde this notebook"
            elif report.isolation_note and nb is not None:
                _record_isolation(course_root, config.course_id, assignment, student, spec.notebook,
                                  _first_answer(nb), report.isolation_note)
            outcomes.append(Outcome(student, report.score, report.max_score, report.execution_time,
                                    problem or "; ".join(report.notes), report.isolation_note))
            bar.update(1)
    bar.close()
    return outcomes


def generate_feedback(assignment: str, course_root: Path) -> None:
    """nbgrader generate_feedback for every autograded student of the assignment."""
    api = nbgrader_api(course_root)
    for student in CourseLayout(course_root).students(assignment):
        if CourseLayout(course_root).autograded(student, assignment).is_dir():
            api.generate_feedback(assignment, student)


def export_grades(course_root: Path, course_id: str, dest: Path) -> Path:
    """nbgrader's CSV export of the whole gradebook, with the columns of autograder.provisional."""
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(dest)
    with Gradebook(_db_url(course_root), course_id) as gb:
        plugin.export(gb)
    return annotate_grades(dest, _db_url(course_root), course_id)
