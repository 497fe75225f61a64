"""The nbgrader step that grades in tensorgrade's sandbox and reports into autograder cells.

Each autograder test cell (grade_id test_*) gets, as its outputs, the feedback of its
checks (HTML and wrapped text, autograder.feedback) and its score as an execute_result,
which nbgrader reads as partial credit; SaveAutoGrades then stores it in gradebook.db as
usual. A note about one of the student's cells goes under that cell; the isolation in force
goes with the submission's notes into the first graded cell. A file that was not a notebook
(marked by autograder.feedback.SubmissionExporter) gets the plain reason in every graded cell.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .config import load_config
from .feedback import cell_outputs, note_output
from .grading import grade_notebook, unreadable_report
from .paths import release_notebook
from .results import GradeReport
from .submission import build_program
from .suite import INTERNAL_ERROR

_REPORTS: dict[str, GradeReport] = {}
_REPORTS_LOCK = threading.Lock()


def program_key(nb: NotebookNode, assignment: str) -> str:
    """A fingerprint of what grading a notebook depends on: the assignment and the program run.

    Locked cells are not part of the program, so nbgrader's sanitizing (which restores them)
    leaves the key unchanged.
    """
    spec = load_config().assignment(assignment)
    release = nbformat.read(release_notebook(assignment, spec.notebook), as_version=4)
    program = build_program(nb, release)
    return hashlib.sha256(json.dumps([assignment, program.cells]).encode()).hexdigest()


def remember(nb: NotebookNode, assignment: str, report: GradeReport) -> None:
    """Keep a report made ahead of time (by the batch command), for the nbgrader step to use."""
    with _REPORTS_LOCK:
        _REPORTS[program_key(nb, assignment)] = report


def _isolation_refusal() -> str:
    """Why nbgrader's own autograde must not grade here (weak isolation, not allowed), or ""."""
    from .sandbox.limits import isolation

    status = isolation()
    return "" if status.full or load_config().allow_weak_isolation else status.refusal()


class GradeInSandbox(NbGraderPreprocessor):
    """Replaces nbgrader's Execute: grade with tensorgrade, write each graded cell's outputs."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        assignment = resources["nbgrader"]["assignment"]
        unreadable = nb.metadata.get("tensorgrade", {}).get("unreadable")
        if unreadable:
            report = unreadable_report(assignment, load_config(), unreadable)
        else:
            report = self._report(nb, resources, assignment)
        for check in report.checks:
            if check.output == INTERNAL_ERROR:
                self.log.warning("tensorgrade: the grader failed on check %s (%s); see the grader's log",
                                 check.name, resources["nbgrader"].get("student"))
        for problem in report.grader_problems:  # nbgrader's own autograde: into its log, not lost
            self.log.error("tensorgrade: grader-side problem: %s\nsandbox log tail:\n%s", problem, report.log_tail)
        general = ([report.unreadable] if report.unreadable else []) + [
            n for n in report.notes if n not in report.cell_notes.values()]
        isolation = report.isolation_note or (f"Graded with {report.isolation}." if report.isolation else "")
        nb.metadata["tensorgrade"] = {**nb.metadata.get("tensorgrade", {}), "notes": general,
                                      "isolation": report.isolation}
        groups = report.by_grade_id()
        notes = general + ([isolation] if isolation else [])
        for number, cell in enumerate(nb.cells, start=1):
            meta = cell.metadata.get("nbgrader", {})
            if number in report.cell_notes and cell.cell_type == "code" and not meta.get("grade"):
                cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"] + [
                    note_output(number, report.cell_notes[number])]
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                checks = groups.get(meta.get("grade_id"), [])
                cell.outputs = cell_outputs(checks, notes)
                cell.execution_count = None
                notes = []  # submission-wide notes appear once, in the first graded cell
        return nb, resources

    @staticmethod
    def _report(nb: NotebookNode, resources: dict, assignment: str) -> GradeReport:
        """The batch's report made ahead of time, or a fresh grade of this notebook."""
        with _REPORTS_LOCK:
            report = _REPORTS.pop(program_key(nb, assignment), None)
        if report is not None:
            return report
        refusal = _isolation_refusal()
        if refusal:
            raise RuntimeError(refusal)
        with tempfile.TemporaryDirectory(prefix="tensorgrade-nb-") as tmp:
            path = Path(tmp) / "submission.ipynb"
            nbformat.write(nb, path)
            course_root = Path(resources.get("metadata", {}).get("path", ".")).resolve()
            return grade_notebook(path, assignment, load_config(), course_root,
                                  student=resources["nbgrader"].get("student") or "")
