"""Cell constructors for nbgrader source notebooks, and the solution-region wrapper.

Roles (kept in cell metadata under "tensorgrade", read and written by autograder.nbgrader_cells):
  setup     locked code run before the student's cells at grading time (imports only);
  solution  the student's code: the reference between nbgrader's solution markers;
  check     a visible, locked test a student can run;
  graded    nbgrader autograder test cell: the hidden suite reports its score here;
  demo      locked code for people only (data loading, training demos, plots): never graded;
  answer    a free-response markdown cell graded by hand in formgrader.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from types import ModuleType

import nbformat
from nbformat.notebooknode import NotebookNode

from .. import nbgrader_cells

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _code(source: str, grade_id: str, role: str, **flags) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip("\n"))
    cell.metadata = nbgrader_cells.make(grade_id, role, **flags)
    return cell


def markdown(text: str) -> NotebookNode:
    """Locked-in-spirit lecture text (nbgrader leaves unmarked markdown cells alone)."""
    return nbformat.v4.new_markdown_cell(inspect.cleandoc(text))


def setup(grade_id: str, source: str) -> NotebookNode:
    """Imports the student's functions need; the grader runs the release's copy, not the student's."""
    return _code(source, grade_id, "setup", grade=False, solution=False, locked=True)


DEMO_BANNER = "# DEMO (not graded): run it to watch your code at work; the grader never runs it."


def demo(grade_id: str, source: str) -> NotebookNode:
    """Code for people (data, training demos, plots); never executed while grading. Its first line says so."""
    return _code(f"{DEMO_BANNER}\n{textwrap.dedent(source).strip(chr(10))}", grade_id, "demo", grade=False,
                 solution=False, locked=True)


def question(text: str, points: float) -> NotebookNode:
    """A written question: its text, its points, and that a TA grades the answer cell below it."""
    return markdown(f"**Question ({points:g} points, graded by a TA after you submit; not part of the "
                    f"auto-graded score).** {inspect.cleandoc(text)}")


def check(grade_id: str, source: str) -> NotebookNode:
    """A visible test: shapes and types, fast, with messages a student understands."""
    return _code(source, grade_id, "check", grade=False, solution=False, locked=True)


def graded(grade_id: str, checks: dict[str, float], graded_name: str) -> NotebookNode:
    """nbgrader's autograder test cell; its score comes from the hidden suite at grading time."""
    total = sum(checks.values())
    listing = "\n".join(f"# {name}: {pts:g}" for name, pts in checks.items())
    # The first line is a comment, not a docstring: running the cell prints nothing.
    source = (f"# Auto-graded when you submit: {graded_name}, {total:g} points.\n"
              f"{BEGIN_HIDDEN}\n# tensorgrade hidden checks (points):\n{listing}\n{END_HIDDEN}")
    return _code(source, grade_id, "graded", grade=True, solution=False, locked=True, points=total, label=graded_name)


def answer(grade_id: str, points: float, model_answer: str) -> NotebookNode:
    """A free-response cell for formgrader; the source holds the model answer for TAs."""
    cell = nbformat.v4.new_markdown_cell(inspect.cleandoc(model_answer))
    cell.metadata = nbgrader_cells.make(grade_id, "answer", grade=True, solution=True, locked=False, points=points)
    return cell


def _definition(module: ModuleType, name: str) -> tuple[list[str], ast.AST]:
    source = inspect.getsource(module)
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return source.splitlines(), node
    raise KeyError(f"{module.__name__} defines no {name}")


def _body_span(fn: ast.FunctionDef) -> tuple[int, int]:
    body = fn.body
    has_docstring = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
        and isinstance(body[0].value.value, str)
    first = body[1] if has_docstring else body[0]
    return first.lineno - 1, fn.end_lineno


def reference_source(module: ModuleType, name: str, *, marked: bool) -> str:
    """The reference definition of `name`; with `marked`, each body wrapped in solution markers.

    Signatures and docstrings stay outside the markers, so the release keeps them.
    """
    lines, node = _definition(module, name)
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    segment = lines[start:node.end_lineno]
    if not marked:
        return "\n".join(segment)
    functions = [node] if isinstance(node, ast.FunctionDef) else [
        n for n in node.body if isinstance(n, ast.FunctionDef)]
    for fn in sorted(functions, key=lambda f: f.lineno, reverse=True):
        first, last = (i - start for i in _body_span(fn))
        indent = segment[first][: len(segment[first]) - len(segment[first].lstrip())]
        segment[last:last] = [indent + END]
        segment[first:first] = [indent + BEGIN]
    return "\n".join(segment)


def solution(module: ModuleType, name: str) -> NotebookNode:
    """The student's cell for `name`: the reference between solution markers."""
    return _code(reference_source(module, name, marked=True), name, "solution",
                 grade=False, solution=True, locked=False)


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    """A Python 3 notebook with these cells."""
    nb = nbformat.v4.new_notebook(cells=cells)
    for index, cell in enumerate(nb.cells):
        # Stable ids keep regenerated notebooks byte-identical.
        cell.id = f"cell-{index:02d}"
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb
