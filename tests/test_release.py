"""Source, release and solution notebooks: generated, free of solutions, and runnable."""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import paths
from autograder.authoring.build import extra_files, source_notebook, write_solution_notebooks
from autograder.authoring.cells import BEGIN, END
from autograder.config import load_config
from autograder.paths import PROJECT_ROOT
from tests.helpers import ASSIGNMENTS
from tests.notebook_runner import execute

CONFIG = load_config()


def _notebook_path(directory: Path, assignment: str) -> Path:
    return directory / assignment / CONFIG.assignment(assignment).notebook


def _role(cell) -> str | None:
    return cell.metadata.get("tensorgrade", {}).get("role")


def _graded_functions(assignment: str) -> set[str]:
    nb = nbformat.read(_notebook_path(paths.SOURCE_DIR, assignment), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if _role(c) == "solution"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_source_is_what_solutions_and_course_config_generate(assignment):
    built = nbformat.writes(source_notebook(CONFIG, assignment)) + "\n"
    assert _notebook_path(paths.SOURCE_DIR, assignment).read_text() == built, \
        "source/ drifted from solutions/ or course_config.py: run `make source release`"
    for origin, name in extra_files(assignment):
        assert (paths.SOURCE_DIR / assignment / name).read_bytes() == origin.read_bytes(), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cell_points_match_course_config(assignment):
    nb = nbformat.read(_notebook_path(paths.SOURCE_DIR, assignment), as_version=4)
    spec = CONFIG.assignment(assignment)
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    expected = {gid: sum(group.values()) for gid, group in spec.checks.items()} | spec.manual
    assert points == expected


def _volatile_free(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.get("metadata", {}).pop("language_info", None)
    return data


@pytest.fixture(scope="module")
def regenerated_release(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(paths.SOURCE_DIR, course / "source")
    shutil.copyfile(PROJECT_ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    env_path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    for assignment in ASSIGNMENTS:
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
                        "--log-level=ERROR"], cwd=course, check=True, env={"PATH": env_path, "HOME": str(course)})
    return course / "release"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_regenerating_the_release_gives_the_committed_one(regenerated_release, assignment):
    assert _volatile_free(_notebook_path(regenerated_release, assignment)) == \
        _volatile_free(_notebook_path(paths.RELEASE_DIR, assignment)), "release/ is stale: run `make release`"


def _solution_lines(assignment: str) -> list[str]:
    nb = nbformat.read(_notebook_path(paths.SOURCE_DIR, assignment), as_version=4)
    lines = []
    for cell in nb.cells:
        if _role(cell) == "solution":
            body = cell.source.split(BEGIN)[1:]
            for part in body:
                lines += [ln.strip() for ln in part.split(END)[0].splitlines() if len(ln.strip()) > 12]
    return lines


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_code_hidden_test_or_output(assignment):
    text = _notebook_path(paths.RELEASE_DIR, assignment).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "tensorgrade hidden checks"):
        assert marker not in text
    nb = nbformat.reads(text, as_version=4)
    code = "\n".join(c.source for c in nb.cells if _role(c) == "solution")
    leaked = [line for line in _solution_lines(assignment) if line in code]
    assert not leaked, f"solution lines in the release: {leaked[:3]}"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "release cells carry outputs"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_in_the_release_raises_not_implemented(assignment):
    nb = nbformat.read(_notebook_path(paths.RELEASE_DIR, assignment), as_version=4)
    stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if _role(c) == "solution"}
    assert set(stubs) == _graded_functions(assignment)
    for name, source in stubs.items():
        tree = ast.parse(source)
        raises = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)]
        assert raises and all("NotImplementedError" in ast.unparse(r) for r in raises), name


@pytest.fixture(scope="module")
def solution_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("solutions")
    write_solution_notebooks(CONFIG, out)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_runs_top_to_bottom_without_error_in_under_60_s(solution_dir, assignment):
    run = execute(_notebook_path(solution_dir, assignment))
    assert run.errors == {}
    assert run.seconds < 60, f"{assignment} took {run.seconds:.0f} s"
    stderr = [o.text for c in run.nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert stderr == [], f"a correct solution makes {assignment} print warnings: {stderr}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_first_cell_states_the_points_and_what_must_sit_beside_the_notebook(assignment):
    spec = CONFIG.assignment(assignment)
    first = nbformat.read(_notebook_path(paths.RELEASE_DIR, assignment), as_version=4).cells[0].source
    auto, manual = sum(spec.check_points.values()), sum(spec.manual.values())
    assert f"**Points: {auto + manual:g}.** {auto:g} are auto-graded when you submit" in first
    assert f"{manual:g} are graded by a TA afterwards" in first
    beside = sorted(p.name for p in (paths.RELEASE_DIR / assignment).iterdir() if p.name != spec.notebook)
    if beside:
        assert "**Keep this notebook in the folder it came in:**" in first
        assert all(f"`{name}`" in first or f"`{name}/`" in first for name in beside), (beside, first)
    else:
        assert "This notebook needs no other file" in first


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_print_nothing_when_run(assignment):
    nb = nbformat.read(_notebook_path(paths.RELEASE_DIR, assignment), as_version=4)
    graded = [c for c in nb.cells if _role(c) == "graded"]
    assert graded
    for cell in graded:  # Jupyter echoes a cell's last expression (a docstring too); comments print nothing
        assert not [n for n in ast.parse(cell.source).body if isinstance(n, ast.Expr)], cell.source


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_errors_only_in_cells_that_call_unimplemented_functions(assignment, tmp_path):
    folder = tmp_path / assignment
    shutil.copytree(paths.RELEASE_DIR / assignment, folder)
    run = execute(folder / CONFIG.assignment(assignment).notebook)
    graded = _graded_functions(assignment)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in run.nb.cells}
    assert run.errors, "the release notebook should fail where functions are missing"
    for grade_id, (ename, evalue) in run.errors.items():
        names = {n.id for n in ast.walk(ast.parse(cells[grade_id].source)) if isinstance(n, ast.Name)}
        assert names & graded, f"{grade_id} fails ({ename}: {evalue}) without calling a graded function"
        assert ename in ("NotImplementedError", "NameError"), f"{grade_id}: {ename}: {evalue}"
