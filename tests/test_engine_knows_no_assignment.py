"""The engine knows no assignment: an assignment is its folder, its reference and its entry in course_config.py.

Everything under autograder/ outside autograder/assignments/<name>/ is the engine. None of it may import an
assignment's modules or name an assignment (or its data: "mnist") in an identifier, a string or a docstring, nor
in a template; what an assignment adds, it adds through its hooks (autograder.hooks). No exception is needed.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder import assignments
from autograder.config import load_config
from autograder.paths import PROJECT_ROOT

ENGINE = PROJECT_ROOT / "autograder"
# The data the kit's own assignments use: naming it in the engine would tie the engine to one of them.
DATA_WORDS = ("mnist",)


def _words() -> set[str]:
    return {*load_config().assignments, *assignments.names(), *DATA_WORDS}


def _engine_files() -> list[Path]:
    """Every file of the engine: everything under autograder/ but the assignments' own folders."""
    inside = {assignments.folder(name) for name in assignments.names()}
    return sorted(p for p in ENGINE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and not any(p.is_relative_to(folder) for folder in inside))


def _names_in(tree: ast.AST) -> list[tuple[int, str]]:
    """Every identifier, imported module and string constant of a module, with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, node.module or "")] + [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.lineno, node.name))
        elif isinstance(node, ast.arg):
            found.append((node.lineno, node.arg))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def test_the_engine_files_are_found_and_the_assignments_folders_left_out():
    files = {p.relative_to(PROJECT_ROOT).as_posix() for p in _engine_files()}
    assert {"autograder/grading.py", "autograder/calibration.py", "autograder/assignments/__init__.py",
            "autograder/sandbox/namespaces.py"} <= files
    assert not any(f.startswith(f"autograder/assignments/{name}/") for f in files for name in assignments.names())


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
def test_no_engine_module_imports_or_names_an_assignment(path):
    words = _words()
    if path.suffix == ".py":
        named = [(line, text) for line, text in _names_in(ast.parse(path.read_text(), str(path)))
                 if any(word in text.lower() for word in words)]
    else:
        named = [(n, line) for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
                 if any(word in line.lower() for word in words)]
    assert not named, (f"{path.relative_to(PROJECT_ROOT)} names an assignment or its data (line, text): {named[:5]}; "
                       "move it into the assignment's folder and reach it through autograder.hooks")


def test_the_check_catches_an_engine_module_that_imports_an_assignment():
    source = "from .assignments.part2_mnist.trusted.hooks import data_inputs\nx = data_inputs\n"
    named = [text for _, text in _names_in(ast.parse(source)) if any(w in text.lower() for w in _words())]
    assert named == ["assignments.part2_mnist.trusted.hooks"]
