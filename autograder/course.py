"""Autograde every submission of an assignment in an nbgrader course directory.

Sandboxes run PARALLEL_SUBMISSIONS at a time; each finished submission is then recorded
through nbgrader's own autograde (in this process, so torch and the suites load once) and
logged under logs/<assignment>/ (autograder.submission_log). A submission counts as done
when gradebook.db holds a score for every autograded cell and its notebook is the one last
graded, so a batch killed halfway and run again grades exactly the rest, and a resubmission
is regraded (select_submissions).
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
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
from .submission import SubmissionError, read_notebook
from .submission_log import fingerprint, read_log, record_of, write_log


@dataclass
class Outcome:
    """One student's result in the batch."""

    student: str
    score: float
    max_score: float
    seconds: float
    problem: str = ""
    isolation: str = ""  # the weak isolation it was graded with (ALLOW_WEAK_ISOLATION), else ""
    grader_problems: list[str] = field(default_factory=list)  # problems on the grader's side (see the log)
    log: Path | None = None  # the submission's log (autograder.submission_log)


def nbgrader_api(course_root: Path, config: CourseConfig | None = None):
    """nbgrader's API object for this course directory, configured from `config` (default: course_config.py)."""
    from nbgrader.apps import NbGraderAPI

    c = Config()
    configure(c, course_root, config.path if config is not None else None)
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
        return logged.get("sha256") != fingerprint(notebook)
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
                     progress: bool = True, students: list[str] | None = None, force: bool = False) -> list[Outcome]:
    """Autograde the submissions select_submissions picks; return one Outcome per graded student."""
    check_calibrated(config, assignment)
    course_root = Path(course_root).resolve()
    layout = CourseLayout(course_root)
    spec = config.assignment(assignment)
    api = nbgrader_api(course_root, config)
    pending = select_submissions(assignment, course_root, config, students, force)
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
            grader_problems = list(report.grader_problems)
            if not result.get("success"):
                _record_zero(course_root, config.course_id, assignment, student)
                if nb is not None:  # nbgrader failed on a notebook the grader could read: the grader's problem
                    grader_problems.append(f"nbgrader autograde failed; 0 recorded\n{result.get('error') or ''}")
                problem = problem or "nbgrader could not autograde this notebook"
            elif report.isolation_note and nb is not None:
                _record_isolation(course_root, config.course_id, assignment, student, spec.notebook,
                                  _first_answer(nb), report.isolation_note)
            log = write_log(layout, record_of(student, path, report, problem, grader_problems))
            outcomes.append(Outcome(student, report.score, report.max_score, report.execution_time,
                                    problem or "; ".join(report.notes), report.isolation_note, grader_problems, log))
            bar.update(1)
    bar.close()
    return outcomes


def generate_feedback(assignment: str, course_root: Path, config: CourseConfig | None = None,
                      students: list[str] | None = None) -> None:
    """nbgrader generate_feedback for every autograded student of the assignment (or only those in `students`)."""
    api = nbgrader_api(course_root, config)
    for student in CourseLayout(course_root).students(assignment):
        if (students is None or student in students) and CourseLayout(course_root).autograded(student,
                                                                                                assignment).is_dir():
            api.generate_feedback(assignment, student)


def export_grades(course_root: Path, course_id: str, dest: Path) -> Path:
    """nbgrader's CSV export of the whole gradebook."""
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(dest)
    with Gradebook(_db_url(course_root), course_id) as gb:
        plugin.export(gb)
    return dest
