"""Shared helpers of the kit's tests: solution notebooks with one function replaced, fast configs."""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder import paths
from autograder.authoring.build import solution_notebook
from autograder.config import CourseConfig, load_config
from autograder.results import GradeReport

GRADESCOPE_SCHEMA = Path(__file__).parent / "schemas" / "gradescope_results.schema.json"

ASSIGNMENTS = tuple(load_config().assignments)  # found from course_config.py, as the kit finds them


@functools.lru_cache(maxsize=1)
def test_config() -> CourseConfig:
    """The course config with shorter time limits, so hostile notebooks fail fast in tests."""
    return dataclasses.replace(load_config(), cell_time_limit_s=5, check_time_limit_s=30,
                               submission_time_limit_s=120)


test_config.__test__ = False  # a helper, not a test


@functools.lru_cache(maxsize=None)
def _solution_json(assignment: str) -> str:
    return nbformat.writes(solution_notebook(load_config(), assignment))


def solution(assignment: str) -> NotebookNode:
    """A fresh copy of the assignment's complete solution notebook."""
    return nbformat.reads(_solution_json(assignment), as_version=4)


def release(assignment: str) -> NotebookNode:
    """A fresh copy of the assignment's release notebook: what students start from, every function a stub."""
    return nbformat.read(paths.release_notebook(assignment, load_config().assignment(assignment).notebook),
                         as_version=4)


def replace_function(nb: NotebookNode, name: str, source: str) -> NotebookNode:
    """Replace the solution cell of `name` (its grade_id) with `source`; returns nb."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == name:
            cell.source = source
            return nb
    raise KeyError(f"no solution cell {name}")


def with_functions(assignment: str, replacements: dict[str, str]) -> NotebookNode:
    """The solution notebook with some functions' cells replaced."""
    nb = solution(assignment)
    for name, source in replacements.items():
        replace_function(nb, name, source)
    return nb


def write(nb: NotebookNode | str | bytes, path: Path) -> Path:
    """Write a notebook (or raw text/bytes) to path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    elif isinstance(nb, str):
        path.write_text(nb)
    else:
        path.write_text(nbformat.writes(nb))
    return path


def scores(report: GradeReport) -> dict[str, float]:
    """Points earned by check name."""
    return {c.name: c.score for c in report.checks}


def failed(report: GradeReport) -> set[str]:
    """Names of the checks that lost points."""
    return {c.name for c in report.checks if not c.passed}


def as_json(report: GradeReport) -> str:
    """The report's results.json without timings, for equality tests."""
    data = report.to_gradescope()
    data.pop("execution_time", None)
    return json.dumps(data, sort_keys=True)


def validate_gradescope(data: dict) -> None:
    """Raise jsonschema.ValidationError where data is not a results.json as Gradescope documents it."""
    import jsonschema

    jsonschema.validate(data, json.loads(GRADESCOPE_SCHEMA.read_text()))
