"""Read a submitted notebook defensively and turn it into the program the sandbox runs.

The program is: the setup cells of the trusted release notebook, then the student's own
code cells (solution cells and cells the student added) in notebook order. Locked cells
(demos, visible checks, graded cells) are never taken from the student, and never run.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from . import nbgrader_cells, paths
from .config import CourseConfig

MAX_NOTEBOOK_MB = 100
# Every code cell is a phase of the sandbox (its clock, its evidence file): the course's notebooks have about
# 40, and 100,000 empty ones held the grader past its submission budget (issue 20).
MAX_CODE_CELLS = 2000


class SubmissionError(Exception):
    """The file cannot be graded as a notebook; the message says why, for the student."""


TOO_DEEP = ("the notebook's JSON is nested too deeply to read (Jupyter never saves such a file): submit the "
            "notebook as Jupyter saved it")


def read_notebook(path: Path) -> NotebookNode:
    """Parse a notebook file (nbformat 3 or 4, any bytes) or raise SubmissionError."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise SubmissionError(f"the notebook file cannot be read ({err.strerror})") from err
    if size == 0:
        raise SubmissionError("the notebook file is empty")
    if size > MAX_NOTEBOOK_MB * 1024 * 1024:
        raise SubmissionError(f"the notebook file is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_MB} MB limit: "
                              "clear its outputs and submit again")
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise SubmissionError(f"the file is not valid JSON (line {getattr(err, 'lineno', '?')}), so it cannot be "
                              "opened as a notebook: was it saved by Jupyter?") from None
    except (RecursionError, MemoryError):
        raise SubmissionError(TOO_DEEP) from None
    if not isinstance(data, dict) or "nbformat" not in data or not ({"cells", "worksheets"} & set(data)):
        raise SubmissionError("the file is JSON but not a Jupyter notebook")
    try:
        dropped = _repair(data)
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except (RecursionError, MemoryError):
        raise SubmissionError(TOO_DEEP) from None
    except Exception as err:  # noqa: BLE001 - nbformat raises many kinds; all mean "unreadable"
        raise SubmissionError(f"the notebook cannot be read by nbformat ({type(err).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise SubmissionError("the notebook has no list of cells")
    code_cells = sum(isinstance(c, dict) and c.get("cell_type") == "code" for c in nb.cells)
    if code_cells > MAX_CODE_CELLS:
        raise SubmissionError(f"the notebook has {code_cells:,} code cells, more than the {MAX_CODE_CELLS:,} the "
                              "grader runs: merge or delete cells and submit again")
    if dropped:
        nb.metadata["tensorgrade_dropped_cells"] = dropped
    return nb


def _repair(data: dict) -> int:
    """Fix what a hand-edited notebook may break in single cells, so one bad cell does not make the
    whole notebook unreadable: drop entries that are not cells, reset metadata that is not a dict,
    turn sources into text. Returns how many entries were dropped."""
    dropped = 0
    lists = [data.get("cells")] + [w.get("cells") for w in data.get("worksheets") or [] if isinstance(w, dict)]
    for cells in lists:
        if not isinstance(cells, list):
            continue
        kept = []
        for cell in cells:
            if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw", "heading"):
                dropped += 1
                continue
            if not isinstance(cell.get("metadata", {}), dict):
                cell["metadata"] = {}
            for key in ("source", "input"):
                value = cell.get(key)
                if value is not None and not isinstance(value, str) and not (
                        isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    cell[key] = str(value)
            kept.append(cell)
        cells[:] = kept
    return dropped


# ast.parse builds about 250 bytes of tree per byte of source, in the trusted process: a cell longer than
# any hand-written one (a notebook may hold 100 MB) is read by the regex alone, in linear time and memory.
MAX_PARSED_CELL = 200_000
# A cell's label names what it defines: at most this many names, each cut to this many characters.
LABEL_NAMES, LABEL_NAME_CHARS = 4, 40


def defined_names(source: str) -> list[str]:
    """Top-level functions and classes a cell defines (by regex where it does not parse, or is too long to)."""
    if len(source) > MAX_PARSED_CELL:
        return _names_by_regex(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the last two: expressions nested too deeply
        return _names_by_regex(source)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _names_by_regex(source: str) -> list[str]:
    return re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, flags=re.M)


def cell_label(names: list[str]) -> str:
    """'normalize, make_transform' for a cell's labels: a few names, none longer than a name a person writes."""
    shown = [n if len(n) <= LABEL_NAME_CHARS else n[:LABEL_NAME_CHARS] + "..." for n in names[:LABEL_NAMES]]
    more = len(names) - LABEL_NAMES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@dataclass
class Program:
    """What the sandbox runs, and how to name each phase in messages."""

    cells: list[dict] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)  # each cell's name in messages, by its index
    cell_names: dict[int, list[str]] = field(default_factory=dict)  # what each student cell defines
    notes: list[str] = field(default_factory=list)


def release_of(assignment: str, config: CourseConfig) -> NotebookNode:
    """The trusted release notebook of `assignment` (read once per process; never modified)."""
    return _release(assignment, config.assignment(assignment).notebook)


@functools.lru_cache(maxsize=8)
def _release(assignment: str, notebook: str) -> NotebookNode:
    return nbformat.read(paths.release_notebook(assignment, notebook), as_version=4)


def build_program(student: NotebookNode, release: NotebookNode) -> Program:
    """Setup cells from the release, then the student's unlocked code cells in order."""
    program = Program()
    locked_sources = {c.source for c in release.cells if nbgrader_cells.is_locked(c)}
    graded_functions = [nbgrader_cells.grade_id(c) for c in nbgrader_cells.with_role(release.cells, "solution")]
    for i, cell in enumerate(release.cells):
        if nbgrader_cells.role(cell) == "setup":
            index = -(i + 1)  # negative: not a cell of the student's notebook
            program.cells.append({"index": index, "source": cell.source})
            program.labels[index] = "the notebook's given setup cell"
    seen_solution_ids = set()
    all_names: set[str] = set()
    for number, cell in enumerate(student.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        meta = nbgrader_cells.nbgrader(cell)
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else str(source)
        if meta.get("locked") or meta.get("grade") and not meta.get("solution"):
            continue
        if not meta and source in locked_sources:
            continue
        if meta.get("solution"):
            seen_solution_ids.add(meta.get("grade_id"))
        names = defined_names(source)
        all_names.update(names)
        program.cells.append({"index": number, "source": source})
        if names:
            program.cell_names[number] = names
        label = f"cell {number}" + (f" ({cell_label(names)})" if names else "")
        program.labels[number] = label
    ours = seen_solution_ids & set(graded_functions)
    foreign = {gid for gid in seen_solution_ids - set(graded_functions) if gid}
    defined = {name for name in all_names if name in graded_functions}
    dropped = student.metadata.get("tensorgrade_dropped_cells") if isinstance(student.get("metadata"), dict) else 0
    if dropped:
        program.notes.append(f"{dropped} entr{'y' if dropped == 1 else 'ies'} of the notebook's cell list "
                             f"{'was not a cell and was' if dropped == 1 else 'were not cells and were'} skipped")
    if (not ours and not defined) or len(foreign) > len(ours | defined):
        # Assignments may share a function name (training_loop): a notebook whose solution
        # cells are mostly not this assignment's is another assignment's notebook.
        program.notes.append("this notebook has few or none of this assignment's solution cells: "
                             "is it the notebook of another assignment?")
    return program


def as_recorded(student: NotebookNode, release: NotebookNode) -> NotebookNode:
    """The notebook as nbgrader's autograde will record it: every cell with a released grade id takes the
    released cell's type and locked flag, a locked one its source (as nbgrader's OverwriteCells does); an
    unknown grade id is dropped. The batch builds its program from this, so it grades what is recorded."""
    released = {nbgrader_cells.grade_id(c): c for c in release.cells if nbgrader_cells.grade_id(c)}
    for cell in student.cells:
        gid = nbgrader_cells.grade_id(cell)
        if gid is None:
            continue
        meta = cell.metadata.get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
        original = released.get(gid)
        if original is None:
            if isinstance(meta, dict):
                meta.pop("grade_id", None)
            continue
        if cell.get("cell_type") != original.cell_type:
            cell.cell_type = original.cell_type
            if original.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            else:
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        if isinstance(meta, dict):
            meta["locked"] = nbgrader_cells.is_locked(original)
        if nbgrader_cells.is_locked(original):
            cell.source = original.source
    return student


def recorded_key(nb: NotebookNode) -> str:
    """A fingerprint of the code a student controls in a notebook (each unlocked code cell's number and source):
    the batch's record is recorded only into the notebook it was graded from (autograder.nbgrader_plugin)."""
    code = [[number, "".join(c.get("source") or "") if isinstance(c.get("source"), list) else str(c.get("source"))]
            for number, c in enumerate(nb.cells, start=1)
            if c.get("cell_type") == "code" and not nbgrader_cells.is_locked(c)]
    return hashlib.sha256(json.dumps(code).encode()).hexdigest()
