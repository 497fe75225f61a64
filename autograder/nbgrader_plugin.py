"""The nbgrader step that grades in tensorgrade's sandbox and reports into autograder cells.

Each autograder test cell (grade_id test_*) gets, as its outputs, the feedback of its
checks on stdout and its score as an execute_result, which nbgrader reads as partial
credit; SaveAutoGrades then stores it in gradebook.db as usual.
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
from .grading import grade_notebook
from .paths import release_notebook
from .results import GradeReport, check_message
from .submission import build_program

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


def report_outputs(checks: list, notes: list[str]) -> list[NotebookNode]:
    """The outputs of one autograder cell: feedback text and the score as partial credit."""
    score = sum(c.score for c in checks)
    lines = [check_message(c) for c in checks] + [f"note: {n}" for n in notes]
    return [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": f"{score:g}"}, execution_count=None)]


def _isolation_refusal() -> str:
    """Why nbgrader's own autograde must not grade here (weak isolation, not allowed), or ""."""
    from .sandbox.limits import isolation

    status = isolation()
    return "" if status.full or load_config().allow_weak_isolation else status.refusal()


class GradeInSandbox(NbGraderPreprocessor):
    """Replaces nbgrader's Execute: grade with tensorgrade, write each graded cell's outputs."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        assignment = resources["nbgrader"]["assignment"]
        key = program_key(nb, assignment)
        with _REPORTS_LOCK:
            report = _REPORTS.pop(key, None)
        if report is None:
            refusal = _isolation_refusal()
            if refusal:
                raise RuntimeError(refusal)
            with tempfile.TemporaryDirectory(prefix="tensorgrade-nb-") as tmp:
                path = Path(tmp) / "submission.ipynb"
                nbformat.write(nb, path)
                course_root = Path(resources.get("metadata", {}).get("path", ".")).resolve()
                report = grade_notebook(path, assignment, load_config(), course_root,
                                        student=resources["nbgrader"].get("student") or "")
            for problem in report.grader_problems:  # nbgrader's own autograde: into its log, not lost
                self.log.error("tensorgrade: grader-side problem: %s\nsandbox log tail:\n%s", problem, report.log_tail)
        groups = report.by_grade_id()
        notes = report.submission_notes
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                checks = groups.get(meta.get("grade_id"), [])
                cell.outputs = report_outputs(checks, notes)
                cell.execution_count = None
                notes = []  # submission-wide notes appear once, in the first graded cell
        return nb, resources
