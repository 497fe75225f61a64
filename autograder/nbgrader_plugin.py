"""The nbgrader steps of the kit: GradeInSandbox, which puts a grade record into the autograder cells,
OverwriteReleasedCells, nbgrader's OverwriteCells without its false tampering warnings, and
CheckCellMetadataCompiled, nbgrader's CheckCellMetadata with its schema compiled once per process.

Each autograder test cell (grade_id test_*) gets, as its outputs, the feedback of its checks (HTML and wrapped
text, autograder.feedback) and its score as an execute_result, which nbgrader reads as partial credit;
SaveAutoGrades then stores it in gradebook.db as usual. A note about one of the student's cells goes under that
cell; the isolation in force goes with the submission's notes into the first graded cell. A file that was not a
notebook (marked by autograder.feedback.SubmissionExporter) gets the plain reason in every graded cell.

Where the record comes from:
- the batch (autograder.course) names a record file in nbgrader's config (GradeInSandbox.record_file): the
  record a Dask worker made, which the step reads, matched by student, assignment and the key of the code it
  graded (recorded_key). A record that does not match is recorded as a grader problem, never graded here.
- `nbgrader autograde` itself names none: the step grades the notebook (in nbgrader's process).

The grader (autograder.grading, and with it torch) is imported only where a notebook is graded: the process that
writes feedback pages (autograder.pages) configures nbgrader with these steps and imports no torch, and a record of
0 points (autograder.ungraded) needs none either.
"""
from __future__ import annotations

import functools
import tempfile
import traceback
from pathlib import Path

import nbformat
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, ClearHiddenTests, NbGraderPreprocessor, OverwriteCells
from traitlets import Unicode

from . import isolation_policy, nbgrader_cells
from .config import load_config
from .feedback import cell_outputs, note_output
from .results import GradeReport, Status
from .submission import recorded_key
from .submission_log import read_record, write_record
from .ungraded import unreadable_report, zero_report

NOT_MATCHED = ("the grader could not record this grade (the notebook nbgrader recorded is not the one graded); "
               "your instructor has been told")


class GradeInSandbox(NbGraderPreprocessor):
    """Replaces nbgrader's Execute: put a grade record into the autograder cells' outputs."""

    record_file = Unicode("", help="The grade record to record instead of grading, a path with {student} and "
                                   "{assignment} (set by the kit's batch; empty: grade the notebook)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        assignment = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"].get("student") or ""
        unreadable = nb.metadata.get("tensorgrade", {}).get("unreadable")
        if self.record_file:
            report = self._recorded(nb, assignment, student)
        elif unreadable:
            report = unreadable_report(assignment, load_config(), unreadable)
        else:
            report = self._graded(nb, resources, assignment, student)
        for check in report.checks:
            if check.status is Status.GRADER_ERROR:
                self.log.warning("tensorgrade: the grader failed on check %s (%s); see the grader's log",
                                 check.name, student)
        for problem in report.grader_problems:  # nbgrader's own autograde: into its log, not lost
            self.log.error("tensorgrade: grader-side problem: %s\nsandbox log tail:\n%s", problem, report.log_tail)
        write_outputs(nb, report)
        return nb, resources

    def _recorded(self, nb: NotebookNode, assignment: str, student: str) -> GradeReport:
        """The batch's record of this submission; a grader problem (0 points) where it does not match."""
        path = Path(self.record_file.format(student=student, assignment=assignment))
        report = read_record(path)
        key = "" if nb.metadata.get("tensorgrade", {}).get("unreadable") else recorded_key(nb)
        if report is not None and (report.student, report.assignment, report.program_key) == (student, assignment,
                                                                                               key):
            return report
        why = ("no record" if report is None else
               f"the record is of {report.student}/{report.assignment}, code key {report.program_key[:12]}; "
               f"nbgrader's notebook has code key {key[:12]}")
        zero = zero_report(assignment, load_config(), NOT_MATCHED, Status.GRADER_ERROR, student=student,
                           notebook=report.notebook if report else "", sha256=report.sha256 if report else "",
                           program_key=key, notes=[NOT_MATCHED],
                           grader_problems=[f"nbgrader's notebook does not match the graded record ({why}); "
                                            "0 recorded, not graded again"])
        write_record(path, zero)  # the batch reads it back: every view says what the gradebook holds
        return zero

    @staticmethod
    def _graded(nb: NotebookNode, resources: dict, assignment: str, student: str) -> GradeReport:
        """A grade of this notebook (nbgrader's own autograde), where the course's isolation policy allows."""
        from .grading import grade_notebook

        why = isolation_policy.refusal(load_config().allow_weak_isolation)
        if why:
            raise RuntimeError(why)
        with tempfile.TemporaryDirectory(prefix="tensorgrade-nb-") as tmp:
            path = Path(tmp) / "submission.ipynb"
            nbformat.write(nb, path)
            course_root = Path(resources.get("metadata", {}).get("path", ".")).resolve()
            return grade_notebook(path, assignment, load_config(), course_root, student=student)


def write_outputs(nb: NotebookNode, report: GradeReport) -> None:
    """Write the record into the notebook: each autograder cell's checks, notes under the student's cells."""
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
            cell.outputs = cell_outputs(groups.get(meta.get("grade_id"), []), notes)
            cell.execution_count = None
            notes = []  # submission-wide notes appear once, in the first graded cell


class OverwriteReleasedCells(OverwriteCells):
    """nbgrader's OverwriteCells, silent about a locked cell exactly as released.

    nbgrader keeps a locked cell's checksum of its source *with* its hidden-tests block, which the released
    notebook never shows, so it warned "Attribute 'checksum' ... has changed!" for every graded cell of an
    untouched notebook (nbgrader issue 1961). A cell equal to its released form gets its source back without
    a warning; any other change of a locked cell is still reported, and overwritten, by nbgrader's own code.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int) -> tuple[NotebookNode, dict]:
        gid = nbgrader_cells.grade_id(cell)
        if gid is not None and nbgrader_cells.is_locked(cell):
            try:
                source = self.gradebook.find_source_cell(gid, self.notebook_id, self.assignment_id)
            except Exception:  # noqa: BLE001 - MissingEntry and the like: nbgrader's own code reports it
                source = None
            if source is not None and source.locked and cell.source == released_source(source.source):
                cell.source = source.source
        return super().preprocess_cell(cell, resources, cell_index)


@functools.lru_cache(maxsize=1024)
def released_source(source: str) -> str:
    """A locked cell's source as nbgrader's release shows it: its hidden-tests block removed (the same few sources
    for every student of a batch, hence the cache)."""
    cell = nbformat.v4.new_code_cell(source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


class _SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's check of one cell's metadata against its schema, with a validator built once: jsonschema.validate,
    which nbgrader calls for every cell, first checks the schema itself against JSON Schema's (nine tenths of the
    time it takes)."""

    def __init__(self) -> None:
        super().__init__()
        kind = validator_for(self.schema)
        kind.check_schema(self.schema)
        self._validator = kind(self.schema)

    def validate_cell(self, cell: NotebookNode) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            return super().validate_cell(cell)  # nothing to check, or nbgrader's own error for another version
        error = best_match(self._validator.iter_errors(meta))
        if error is not None:
            raise error


class _CompiledMetadataValidator(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's MetadataValidator (its checks of grade ids, points and cell types) over _SchemaCheckedOnce."""


@functools.cache
def _metadata_validator() -> _CompiledMetadataValidator:
    return _CompiledMetadataValidator()


class CheckCellMetadataCompiled(CheckCellMetadata):
    """nbgrader's CheckCellMetadata with one validator per process (a quarter of recording a grade when it built one,
    reading its schema files, and checked the schema again for every cell)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        try:
            _metadata_validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message) from None
        return nb, resources
