"""Autograde every submission of an assignment in an nbgrader course directory.

Each submission is one task of the Dask engine (autograder.engine: worker processes of this machine, or a cluster;
autograder.cluster sends the tasks). As each task ends, this process logs its grade record under logs/<assignment>/
(autograder.submission_log) and hands it to a recorder thread, which records it into gradebook.db through nbgrader's
own autograde (whose GradeInSandbox step reads the logged record: it never grades here) and, when asked, has the
student's feedback page written (by a process of its own, autograder.pages, in a batch larger than a few). The
recorder runs at a lower CPU priority while workers grade, so recording never holds up a task, and the batch ends
once the last record is recorded and the last page written; its timeline goes to logs/<assignment>.batch.json
(BatchTimes). A submission counts as done when gradebook.db holds a score for every autograded cell and
its notebook is the one last graded, so a batch killed at any point and run again grades exactly the rest, and
a resubmission is regraded (autograder.pending).
"""
from __future__ import annotations

import json
import logging
import os
import queue
import sys
import threading
import time
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from . import nbgrader_cells
from .calibration import check_calibrated
from .cluster import grade_stream
from .config import CourseConfig
from .engine import IN_PROCESS_UP_TO, engine, in_process, let_go, workers_started
from .nbgrader_setup import nbgrader_api
from .pages import PageWriter, write_page
from .paths import CourseLayout
from .pending import gradebook_url, select_submissions
from .process_memory import resident_mb
from .provisional import ProvisionalCsvExport, totals
from .results import GradeReport, Status
from .submission import release_of
from .submission_log import fingerprint, now, read_log, write_log
from .ungraded import zero_report
from .wording import shortened

_log = logging.getLogger(__name__)
RECORD_FAILED = "the grader could not record this grade in the gradebook; your instructor has been told"
RECORDER_NICENESS = 10  # the recorder thread's CPU priority below the workers' (os.setpriority)


@dataclass
class Outcome:
    """One student's result in the batch: the grade record as logged and recorded, and where its log is."""

    report: GradeReport
    log: Path
    record_seconds: float = 0.0  # the recorder's time on it (nbgrader's autograde), off the grading path
    record_cpu_seconds: float = 0.0  # the CPU time of the recorder's thread on it
    feedback_cpu_seconds: float = 0.0  # the CPU time of writing its feedback page (Recorder with feedback)

    @property
    def student(self) -> str:
        """Whose submission it is."""
        return self.report.student

    @property
    def score(self) -> float:
        """Auto-graded points earned."""
        return self.report.score

    @property
    def seconds(self) -> float:
        """Grading time (the worker's)."""
        return self.report.execution_time

    @property
    def grader_problems(self) -> list[str]:
        """Problems on the grader's side (their tracebacks are in the log)."""
        return self.report.grader_problems

    def summary(self) -> str:
        """The submission's line in a batch summary: totals, time, memory, notes cut at a word."""
        r = self.report
        notes = "; ".join(([r.unreadable] if r.unreadable else []) + r.notes)
        weak = f"  [{r.isolation}]" if r.weak_isolation else ""
        return (f"{self.student:<18} {r.totals.text():<58} {r.execution_time:6.1f} s {r.peak_child_mb:6.0f}/"
                f"{r.peak_worker_mb:<6.0f} MB  {shortened(notes, 80)}{weak}")


@dataclass
class BatchTimes:
    """When each step of a batch ended (seconds since the epoch, 0 where it did not happen) and the recorder's
    time per student: plain data, written beside the logs (CourseLayout.batch_log) for benchmarks/scaling.py."""

    started: float = 0.0  # autograde_course called: next, the submissions still to grade are chosen
    engine_up: float = 0.0  # the engine ready for tasks (a local cluster: its workers started)
    first_result: float = 0.0  # the first record back from a worker
    last_result: float = 0.0  # the last one
    recorded: float = 0.0  # the recorder's last record in gradebook.db
    workers: int = 0  # the engine's workers when it was ready
    record_seconds: dict[str, float] = field(default_factory=dict)  # per student, the recorder's wall time
    record_cpu_seconds: dict[str, float] = field(default_factory=dict)  # per student, its thread's CPU time
    feedback_cpu_seconds: dict[str, float] = field(default_factory=dict)  # per student, writing the feedback page
    # This process's peak resident memory (VmHWM) once all is recorded: scheduler, recorder, data as arrays; 0 where
    # it graded the batch itself (engine.in_process), whose every task reset the peak (cluster._reset_peak_memory).
    command_peak_mb: float = 0.0

    def write(self, path: Path) -> None:
        """Save as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, path: Path) -> BatchTimes:
        """The timeline a file holds."""
        return cls(**json.loads(Path(path).read_text()))


def _record_zero(course_root: Path, course_id: str, assignment: str, student: str) -> None:
    """Give every autograded cell 0 in gradebook.db where nbgrader could not record the grade record."""
    with Gradebook(gradebook_url(course_root), course_id) as gb:
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
    with Gradebook(gradebook_url(course_root), course_id) as gb:
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
                     workers: int | None = None, scheduler: str | None = None,
                     feedback: bool = False, last_use: bool = False) -> list[Outcome]:
    """Autograde the submissions select_submissions picks; return one Outcome per graded student, in
    recording order. With `feedback`, each student's feedback page is written as soon as the grade is recorded
    (nbgrader's generate_feedback, beside the grading: in a process of its own, or for a batch of at most
    IN_PROCESS_UP_TO, in the recorder's thread).

    Grades on `client` (a distributed.Client) when given, else on autograder.engine.engine(config, workers,
    scheduler), started only when something is left to grade (and closed once the last result is back, while the
    last records are written). `last_use`: the caller runs nothing more on `client`, whose local cluster's workers
    are then let go at the same moment (engine.let_go). The batch's timeline goes to CourseLayout.batch_log
    (BatchTimes).
    """
    times = BatchTimes(started=time.time())
    check_calibrated(config, assignment)
    course_root = Path(course_root).resolve()
    layout = CourseLayout(course_root)
    spec = config.assignment(assignment)
    pending = select_submissions(assignment, course_root, config, students, force)
    if not pending:
        return []
    bar = tqdm(total=len(pending), desc=f"autograde {assignment}", unit="submission", disable=not progress,
               file=sys.stderr)
    # A batch of at most IN_PROCESS_UP_TO (which the engine grades in this process) writes its few pages in the
    # recorder's thread: starting the page process (1.6 CPU-s) costs more than they do.
    recorder = Recorder(course_root, config, on_recorded=lambda _: bar.update(1), feedback=feedback,
                        pages_apart=len(pending) > IN_PROCESS_UP_TO)
    try:
        with ExitStack() as stack:
            if client is None:
                client = stack.enter_context(engine(config, workers, scheduler, len(pending)))
            times.workers = workers_started(client)
            graded_here = in_process(client)
            times.engine_up = time.time()
            jobs = [(layout.submitted(s, assignment) / spec.notebook, assignment, s) for s in pending]
            for (path, _, student), report in grade_stream(client, jobs, config):
                times.first_result = times.first_result or time.time()
                times.last_result = time.time()
                report.student, report.notebook, report.sha256 = student, str(path), fingerprint(path)
                report.graded_at = now()
                write_log(layout, report)
                recorder.put(report)
            if last_use:
                let_go(client)
    finally:
        outcomes = recorder.close()
        bar.close()
    times.recorded = time.time()
    times.record_seconds = {o.student: round(o.record_seconds, 3) for o in outcomes}
    times.record_cpu_seconds = {o.student: round(o.record_cpu_seconds, 3) for o in outcomes}
    times.feedback_cpu_seconds = {o.student: round(o.feedback_cpu_seconds, 3) for o in outcomes}
    times.command_peak_mb = 0.0 if graded_here else round(resident_mb("VmHWM") or 0.0, 1)
    times.write(layout.batch_log(assignment))
    return outcomes


class Recorder:
    """Records logged grade records into gradebook.db, one at a time, in a thread of its own at a lower CPU
    priority (RECORDER_NICENESS): recording overlaps grading and never holds up the workers' tasks.

    nbgrader's autograde does the recording (its sanitizing, GradeInSandbox with the logged record, SaveAutoGrades):
    no student code and no kernel run here. With `feedback`, nbgrader's generate_feedback then writes the student's
    feedback page from the recorded grade: a batch's pages are ready when its last grade is, instead of being written
    one after another once every task has ended. With `pages_apart` too, a process of their own writes the pages
    (autograder.pages), so recording and pages use two cores in the batch's tail; else this thread writes them.
    """

    def __init__(self, course_root: Path, config: CourseConfig, on_recorded=lambda outcome: None, *,
                 feedback: bool = False, pages_apart: bool = False) -> None:
        self._root, self._config, self._on_recorded, self._feedback = course_root, config, on_recorded, feedback
        self._api = None
        self._pages = PageWriter(course_root, config, RECORDER_NICENESS) if feedback and pages_apart else None
        self._pages_asked: list[tuple[Outcome, Future[tuple[float, str]]]] = []
        self._queue: queue.Queue[GradeReport | None] = queue.Queue()
        self.outcomes: list[Outcome] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tensorgrade-recorder", daemon=True)
        self._thread.start()

    def put(self, report: GradeReport) -> None:
        """Record this (logged) record once the ones before it are recorded."""
        if self._error is not None:
            raise RuntimeError("recording into gradebook.db failed") from self._error
        self._queue.put(report)

    def close(self) -> list[Outcome]:
        """Wait for every record put to be recorded; the outcomes, in recording order."""
        self._queue.put(None)
        self._thread.join()
        if self._pages is not None:
            self._collect_pages()
        if self._error is not None:
            raise RuntimeError("recording into gradebook.db failed") from self._error
        return self.outcomes

    def _collect_pages(self) -> None:
        """Wait for the page process's pages, and write here any page it could not (it died, or never started)."""
        for outcome, page in self._pages_asked:
            assignment, student = outcome.report.assignment, outcome.report.student
            try:
                outcome.feedback_cpu_seconds, error = page.result()
            except Exception as err:  # noqa: BLE001 - BrokenProcessPool and the like: the page is still owed
                _log.warning("tensorgrade: the feedback page process failed (%s); writing %s's page here", err,
                             student)
                self._write_feedback_here(outcome)
            else:
                if error:
                    _feedback_failed(assignment, student, error)
        self._pages.close()

    def _run(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RECORDER_NICENESS)
        except OSError:
            pass
        while (report := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                started, cpu = time.monotonic(), time.thread_time()
                outcome = self._record(report)
                outcome.record_seconds = time.monotonic() - started
                outcome.record_cpu_seconds = time.thread_time() - cpu
                if self._feedback and CourseLayout(self._root).autograded(report.student, report.assignment).is_dir():
                    if self._pages is not None:
                        self._pages_asked.append((outcome, self._pages.write(report.assignment, report.student)))
                    else:
                        self._write_feedback_here(outcome)
                self.outcomes.append(outcome)
                self._on_recorded(outcome)
            except BaseException as err:  # noqa: BLE001 - handed to the batch's thread by close() and put()
                self._error = err

    def _record(self, report: GradeReport) -> Outcome:
        """Record one logged record through nbgrader's autograde; the record as the gradebook now holds it."""
        if self._api is None:
            self._api = nbgrader_api(self._root, self._config, recording=True)
        layout = CourseLayout(self._root)
        assignment, student = report.assignment, report.student
        result = self._api.autograde(assignment, student, force=True, create=True)
        if not result.get("success"):
            _record_zero(self._root, self._config.course_id, assignment, student)
            if not report.unreadable:  # nbgrader failed on a notebook the grader read: the grader's problem
                report = zero_report(assignment, self._config, RECORD_FAILED, Status.GRADER_ERROR,
                                     notes=[RECORD_FAILED], grader_problems=report.grader_problems + [
                                         f"nbgrader autograde failed; 0 recorded\n{result.get('error') or ''}"],
                                     **{k: getattr(report, k) for k in ("student", "notebook", "sha256",
                                                                         "program_key", "graded_at", "isolation",
                                                                         "weak_isolation", "execution_time")})
                write_log(layout, report)
        else:
            report = read_log(layout, student, assignment) or report  # the step's own record, where it differed
            with Gradebook(gradebook_url(self._root), self._config.course_id) as gb:
                held = totals(gb, assignment, student)
            if held is None or abs(held.auto_score - report.score) > 1e-9:
                report.grader_problems.append(f"gradebook.db holds {held and held.text()} after recording "
                                              f"{report.totals.text()}")
            else:
                report.recorded = held  # written answers left as released: 0 at once, awaiting no TA
            write_log(layout, report)
            if report.isolation_note:
                notebook = self._config.assignment(assignment).notebook
                _record_isolation(self._root, self._config.course_id, assignment, student, notebook,
                                  _first_answer(release_of(assignment, self._config)), report.isolation_note)
        return Outcome(report, layout.submission_log(student, assignment))


    def _write_feedback_here(self, outcome: Outcome) -> None:
        """The recorded student's page, written in this thread, its CPU time kept in `outcome`."""
        cpu = time.thread_time()
        _page_written(self._api, outcome.report.assignment, outcome.report.student)
        outcome.feedback_cpu_seconds = time.thread_time() - cpu


def _page_written(api, assignment: str, student: str) -> bool:
    """nbgrader's generate_feedback for one recorded student through `api`; where it fails, a warning (the grade
    stays) and False."""
    error = write_page(api, assignment, student)
    if error:
        _feedback_failed(assignment, student, error)
    return not error


def _feedback_failed(assignment: str, student: str, error: str) -> None:
    _log.warning("tensorgrade: nbgrader generate_feedback failed for %s/%s:\n%s", student, assignment, error)


def generate_feedback(assignment: str, course_root: Path, config: CourseConfig | None = None,
                      students: list[str] | None = None) -> list[str]:
    """nbgrader generate_feedback for every autograded student of the assignment (or only those in `students`);
    the students whose page nbgrader could not write, each with a warning (their grades stand)."""
    api = nbgrader_api(course_root, config)
    layout = CourseLayout(course_root)
    owed = [s for s in layout.students(assignment)
            if (students is None or s in students) and layout.autograded(s, assignment).is_dir()]
    return [student for student in owed if not _page_written(api, assignment, student)]


def export_grades(course_root: Path, course_id: str, dest: Path) -> Path:
    """The CSV export of the whole gradebook that `nbgrader export` also writes (autograder.provisional)."""
    plugin = ProvisionalCsvExport()
    plugin.to = str(dest)
    with Gradebook(gradebook_url(course_root), course_id) as gb:
        plugin.export(gb)
    return Path(dest)
