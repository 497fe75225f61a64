"""The pieces of every assignment agree: course_config.py, its folder, its notebooks.

Each assignment is a name in course_config.py's ASSIGNMENTS with a folder in autograder/assignments/;
these tests fail, naming the piece, when a part of its folder is missing (its mutant, variant and diagnosis
catalogs included), a configured check has no check function, a check function has
no points, a grade id has no probe, no graded cell or no keys in keys.py, keys.py needs more than the standard
library (the sandbox child imports it), or a notebook is stale against its sources.
"""
from __future__ import annotations

import ast
import inspect
import sys

import nbformat
import pytest

from autograder import assignments, nbgrader_cells, paths
from autograder.assignments import child_may_read
from autograder.authoring.build import source_notebook
from autograder.config import load_config

CONFIG = load_config()
NAMES = sorted(CONFIG.assignments)


def _check_functions(name: str) -> dict[str, object]:
    module = assignments.module(name, "checks")
    return {n.removeprefix("test_"): f for n, f in vars(module).items()
            if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == module.__name__}


def test_every_configured_assignment_has_a_folder_and_every_folder_is_configured():
    assert sorted(assignments.names()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_folder_has_every_part(name):
    for part in assignments.PARTS:
        path = assignments.part_file(name, part)
        assert path.is_file(), f"{name} has no {path.relative_to(assignments.folder(name))}"
    assert (paths.SOLUTIONS_DIR / f"{name}.py").is_file(), f"{name} has no reference solutions/{name}.py"


@pytest.mark.parametrize("name", NAMES)
def test_every_configured_check_has_a_check_function_and_every_check_function_has_points(name):
    configured = set(CONFIG.assignment(name).check_points)
    functions = set(_check_functions(name))
    assert configured - functions == set(), f"{name}: checks in course_config.py without a test_<check> function"
    assert functions - configured == set(), f"{name}: check functions without points in course_config.py"


@pytest.mark.parametrize("name", NAMES)
def test_every_grade_id_has_a_probe_and_every_probe_a_grade_id(name):
    grade_ids = set(CONFIG.assignment(name).checks)
    probes = set(assignments.module(name, "probes").PROBES)
    assert grade_ids - probes == set(), f"{name}: grade ids in course_config.py without a probe"
    assert probes - grade_ids == set(), f"{name}: probes of grade ids course_config.py does not list"


@pytest.mark.parametrize("name", NAMES)
def test_every_probe_has_its_keys_in_keys_py(name):
    keys = assignments.module(name, "keys")
    named = [v.grade_id for v in vars(keys).values() if isinstance(v, keys.Probe)]
    assert len(named) == len(set(named)), f"{name}: keys.py names a grade id twice"
    assert set(named) == set(assignments.module(name, "probes").PROBES), \
        f"{name}: probes without keys in keys.py, or keys of no probe"


@pytest.mark.parametrize("name", NAMES)
def test_keys_py_is_one_the_sandbox_child_can_import(name):
    path = assignments.part_file(name, "keys")
    assert child_may_read(path.relative_to(paths.PROJECT_ROOT).as_posix()), f"{name}: the child cannot see keys.py"
    tree = ast.parse(path.read_text())
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "." for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level]
    kit = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert kit in ([], ["probe_keys"]), f"{name}: keys.py imports {kit} of the kit; only its base, probe_keys"
    base = assignments.FOLDER / "probe_keys.py"
    assert child_may_read(base.relative_to(paths.PROJECT_ROOT).as_posix()), "the child cannot see probe_keys.py"
    base_tree = ast.parse(base.read_text())
    modules += [n.module or "." for n in ast.walk(base_tree) if isinstance(n, ast.ImportFrom)]
    assert all(m.split(".")[0] in sys.stdlib_module_names for m in modules), \
        f"{name}: keys.py imports {modules}; the child imports it, so it stays standard library only"


@pytest.mark.parametrize("name", NAMES)
def test_every_grade_id_has_a_graded_cell_with_its_points(name):
    spec = CONFIG.assignment(name)
    release = nbformat.read(paths.release_notebook(name, spec.notebook), as_version=4)
    graded = {nbgrader_cells.grade_id(c): c for c in nbgrader_cells.with_role(release.cells, "graded")}
    assert set(graded) == set(spec.checks), f"{name}: graded cells of the release differ from course_config.py"
    for grade_id, cell in graded.items():
        assert nbgrader_cells.points(cell) == sum(spec.checks[grade_id].values()), grade_id
        assert nbgrader_cells.label(cell), f"{name}: graded cell {grade_id} has no label"
    answers = {nbgrader_cells.grade_id(c) for c in nbgrader_cells.with_role(release.cells, "answer")}
    assert answers == set(spec.manual), f"{name}: free-response cells differ from course_config.py's manual"


@pytest.mark.parametrize("name", NAMES)
def test_every_required_check_exists(name):
    functions = _check_functions(name)
    for check, fn in functions.items():
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "requires":
                assert set(mark.args) <= set(functions), f"{name}: {check} requires an unknown check"


@pytest.mark.parametrize("name", NAMES)
def test_the_source_notebook_is_not_stale(name):
    spec = CONFIG.assignment(name)
    committed = paths.source_notebook(name, spec.notebook).read_text()
    assert committed == nbformat.writes(source_notebook(CONFIG, name)) + "\n", \
        f"source/{name} is stale against its sources: run `make source release`"


@pytest.mark.parametrize("name", NAMES)
def test_the_release_notebook_is_not_older_than_the_source(name):
    spec = CONFIG.assignment(name)
    source = nbformat.read(paths.source_notebook(name, spec.notebook), as_version=4)
    release = nbformat.read(paths.release_notebook(name, spec.notebook), as_version=4)
    ids = [nbgrader_cells.grade_id(c) for c in source.cells]
    assert ids == [nbgrader_cells.grade_id(c) for c in release.cells], \
        f"release/{name} is stale against source/{name}: run `make release`"
    kit = [nbgrader_cells.metadata(c).get("tensorgrade") for c in source.cells]
    assert kit == [nbgrader_cells.metadata(c).get("tensorgrade") for c in release.cells], \
        f"release/{name} is stale against source/{name}: run `make release`"
    assert [nbgrader_cells.points(c) for c in source.cells] == [nbgrader_cells.points(c) for c in release.cells], \
        f"release/{name} is stale against source/{name}: run `make release`"
