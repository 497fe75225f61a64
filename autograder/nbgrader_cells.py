"""The one reader and writer of cell metadata: nbgrader's (grade id, flags, points) and the kit's own.

As nbgrader's own `nbgrader.utils` (is_grade, is_solution, is_locked), every part of the kit asks here
instead of reading `cell.metadata["nbgrader"]` itself. Readers accept hand-edited notebooks: metadata that
is not a dict reads as empty, a grade id that is not text is turned into text.

The kit's metadata, under "tensorgrade": the cell's role (authoring.cells lists them) and, on a graded
cell, its label: the name of what it grades, as the student's messages say it ("validate").
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

SCHEMA_VERSION = 3  # nbgrader's cell metadata schema


def metadata(cell: Any) -> dict:
    """The cell's metadata ({} where a hand-edited notebook holds something else)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    return meta if isinstance(meta, dict) else {}


def nbgrader(cell: Any) -> dict:
    """nbgrader's metadata of the cell ({} when there is none), its grade id as text."""
    meta = metadata(cell).get("nbgrader")
    if not isinstance(meta, dict):
        return {}
    if not isinstance(meta.get("grade_id", ""), str):  # hand-edited: a list, a number...
        meta = {**meta, "grade_id": str(meta["grade_id"])}
    return meta


def _kit(cell: Any) -> dict:
    meta = metadata(cell).get("tensorgrade")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's nbgrader grade id, or None."""
    return nbgrader(cell).get("grade_id")


def role(cell: Any) -> str | None:
    """The cell's role in the kit (setup, solution, check, graded, demo, answer), or None."""
    return _kit(cell).get("role")


def label(cell: Any) -> str | None:
    """A graded cell's label: the name of what it grades, for messages."""
    return _kit(cell).get("label")


def is_locked(cell: Any) -> bool:
    """nbgrader locks the cell (students cannot edit it)."""
    return bool(nbgrader(cell).get("locked"))


def is_solution(cell: Any) -> bool:
    """nbgrader treats the cell as the student's answer."""
    return bool(nbgrader(cell).get("solution"))


def is_grade(cell: Any) -> bool:
    """nbgrader gives the cell points."""
    return bool(nbgrader(cell).get("grade"))


def points(cell: Any) -> float | None:
    """The points nbgrader gives the cell, or None."""
    return nbgrader(cell).get("points")


def with_role(cells: Iterable[Any], wanted: str) -> Iterator[Any]:
    """The cells of one role, in order."""
    return (cell for cell in cells if role(cell) == wanted)


def find(cells: Iterable[Any], wanted_id: str) -> Any | None:
    """The first cell with this grade id, or None."""
    return next((cell for cell in cells if grade_id(cell) == wanted_id), None)


def make(grade_id: str, role: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None,
         label: str | None = None) -> dict:
    """The metadata of a generated cell: nbgrader's and the kit's."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    kit = {"role": role} if label is None else {"role": role, "label": label}
    return {"nbgrader": meta, "tensorgrade": kit}
