"""Autograde every submission of an assignment in an nbgrader course directory.

Each submission is one task of the Dask engine (autograder.cluster: worker processes of this
machine, or a cluster); as each task ends, this process alone records its report through
nbgrader's own autograde, so a slow submission never holds back the others, and logs it under
logs/<assignment>/ (autograder.submission_log). A submission counts as done when gradebook.db
holds a score for every autograded cell and its notebook is the one last graded, so a batch
killed at any point and run again grades exactly the rest, and a resubmission is regraded
(select_submissions).
"""
from __future__ import annotations

import sys
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tqdm import tqdm
from traitlets.config import Config

from . import nbgrader_cells
from .calibration import check_calibrated
from .cluster import engine, grade_stream
from .config import CourseConfig
from .nbgrader_plugin import remember
from .nbgrader_setup import configure
from .paths import CourseLayout
from .provisional import annotate_grades
from .results import GradeReport
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
    peak_child_mb: float = 0.0  # GradeReport's peak memory of the sandbox child and of the grading worker
    peak_worker_mb: float = 0.0
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
    return next((nbgrader_cells.grade_id(c) for c in nb.cells if nbgrader_cells.is_solution(c)), None)


def autograde_course(assignment: str, course_root: Path, config: CourseConfig, progress: bool = True, *,
                     students: list[str] | None = None, force: bool = False, client=None,
                     workers: int | None = None, scheduler: str | None = None) -> list[Outcome]:
    """Autograde the submissions select_submissions picks; return one Outcome per graded student, in
    recording order.

    Grades on `client` (a distributed.Client) when given, else on autograder.cluster.engine(config, workers,
    scheduler), started only when something is left to grade.
    """
    check_calibrated(config, assignment)
    course_root = Path(course_root).resolve()
    layout = CourseLayout(course_root)
    spec = config.assignment(assignment)
    api = nbgrader_api(course_root, config)
    pending = select_submissions(assignment, course_root, config, students, force)
    outcomes: list[Outcome] = []
    if not pending:
        return outcomes
    bar = tqdm(total=len(pending), desc=f"autograde {assignment}", unit="submission", disable=not progress,
               file=sys.stderr)
    with ExitStack() as stack:
        if client is None:
            client = stack.enter_context(engine(config, workers, scheduler, len(pending)))
        jobs = [(layout.submitted(s, assignment) / spec.notebook, assignment, s) for s in pending]
        for (path, _, student), report in grade_stream(client, jobs, config):
            outcomes.append(_record(api, course_root, config, assignment, student, path, report))
            bar.update(1)
    bar.close()
    return outcomes


def _record(api, course_root: Path, config: CourseConfig, assignment: str, student: str, path: Path,
            report: GradeReport) -> Outcome:
    """Record one report in gradebook.db through nbgrader's autograde (its GradeInSandbox step takes the
    report), and write the submission's log."""
    spec = config.assignment(assignment)
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
    log = write_log(CourseLayout(course_root), record_of(student, path, report, problem, grader_problems))
    return Outcome(student, report.score, report.max_score, report.execution_time,
                   problem or "; ".join(report.notes), report.isolation_note, report.peak_child_mb,
                   report.peak_worker_mb, grader_problems, log)


def generate_feedback(assignment: str, course_root: Path, config: CourseConfig | None = None,
                      students: list[str] | None = None) -> None:
    """nbgrader generate_feedback for every autograded student of the assignment (or only those in `students`)."""
    api = nbgrader_api(course_root, config)
    for student in CourseLayout(course_root).students(assignment):
        if (students is None or student in students) and CourseLayout(course_root).autograded(student,
                                                                                                assignment).is_dir():
            api.generate_feedback(assignment, student)


def export_grades(course_root: Path, course_id: str, dest: Path) -> Path:
    """nbgrader's CSV export of the whole gradebook, with the columns of autograder.provisional."""
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(dest)
    with Gradebook(_db_url(course_root), course_id) as gb:
        plugin.export(gb)
    return annotate_grades(dest, _db_url(course_root), course_id)
