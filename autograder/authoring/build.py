"""Build source notebooks from solutions/, release them with nbgrader, and make solution notebooks."""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nbformat
from nbformat.notebooknode import NotebookNode

from .. import assignments, nbgrader_cells, paths
from ..config import CourseConfig
from ..paths import PROJECT_ROOT
from .cells import reference_source


def extra_files(assignment: str) -> list[tuple[Path, str]]:
    """Files shipped beside the assignment's notebook: (source in the kit, name in the assignment folder),
    from its notebook.py's EXTRA_FILES."""
    return list(getattr(assignments.module(assignment, "notebook"), "EXTRA_FILES", []))


def reference_module(assignment: str) -> ModuleType:
    """The assignment's reference implementation: solutions/<assignment>.py."""
    return importlib.import_module(f"solutions.{assignment}")


def extra_folders(assignment: str) -> list[tuple]:
    """Folders generated beside the assignment's notebook: (writer of the folder, its name), from its
    notebook.py's EXTRA_FOLDERS."""
    return list(getattr(assignments.module(assignment, "notebook"), "EXTRA_FOLDERS", []))


def source_notebook(config: CourseConfig, assignment: str) -> NotebookNode:
    """The nbgrader source notebook of `assignment`, generated from solutions/ and course_config.py; its first
    cell ends with preface()."""
    nb = assignments.module(assignment, "notebook").build(config.assignment(assignment), config)
    first = nb.cells[0]
    if first.cell_type != "markdown":
        raise ValueError(f"{assignment}'s notebook.py must open with a markdown cell (its title)")
    first.source = f"{first.source}\n\n{preface(config, assignment)}"
    return nb


def preface(config: CourseConfig, assignment: str) -> str:
    """What the first cell of every notebook states: its points, auto-graded and TA-graded (from
    course_config.py), and exactly what must sit beside it (its notebook.py's EXTRA_FILES and EXTRA_FOLDERS)."""
    spec = config.assignment(assignment)
    auto, manual = sum(spec.check_points.values()), sum(spec.manual.values())
    points = (f"**Points: {auto + manual:g}.** {auto:g} are auto-graded when you submit (the hidden checks of "
              f"the cells marked *auto-graded*), {manual:g} are graded by a TA afterwards (your written answers).")
    beside = [name for _, name in extra_files(assignment)] + [f"{name}/" for _, name in extra_folders(assignment)]
    if not beside:
        return f"{points}\n\nThis notebook needs no other file: open and run it anywhere."
    return (f"{points}\n\n**Keep this notebook in the folder it came in:** it needs "
            + " and ".join(f"`{name}`" for name in beside)
            + " beside it (they came with it; without them its first code cells stop at `import`).")


def write_notebook(nb: NotebookNode, path: Path) -> None:
    """Write a notebook with a trailing newline, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n")


def build_source(config: CourseConfig) -> list[Path]:
    """Write source/<assignment>/ for every assignment; return the files written."""
    written = []
    for name, spec in config.assignments.items():
        target = paths.source_notebook(name, spec.notebook)
        write_notebook(source_notebook(config, name), target)
        written.append(target)
        for origin, filename in extra_files(name):
            shutil.copyfile(origin, target.parent / filename)
            written.append(target.parent / filename)
        for writer, folder in extra_folders(name):
            written += writer(target.parent / folder)
    return written


def release(config: CourseConfig, course_root: Path = PROJECT_ROOT) -> None:
    """Run `nbgrader generate_assignment` for every assignment (writes release/)."""
    for name in config.assignments:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force", "--log-level=WARN"],
            cwd=course_root, check=True, env=_tool_env(),
        )


def _tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def solution_notebook(config: CourseConfig, assignment: str) -> NotebookNode:
    """The release notebook as a perfect student would submit it: every stub and answer filled in."""
    spec = config.assignment(assignment)
    source = source_notebook(config, assignment)
    answers = {nbgrader_cells.grade_id(c): c.source for c in nbgrader_cells.with_role(source.cells, "answer")}
    reference = reference_module(assignment)
    nb = nbformat.read(paths.release_notebook(assignment, spec.notebook), as_version=4)
    for cell in nb.cells:
        if nbgrader_cells.is_solution(cell) and cell.cell_type == "code":
            cell.source = reference_source(reference, nbgrader_cells.grade_id(cell), marked=False)
        elif nbgrader_cells.is_solution(cell) and nbgrader_cells.grade_id(cell) in answers:
            cell.source = answers[nbgrader_cells.grade_id(cell)]
    return nb


def write_solution_notebooks(config: CourseConfig, out: Path) -> list[Path]:
    """Write each assignment's solution notebook (and its extra files) under out/<assignment>/."""
    written = []
    for name, spec in config.assignments.items():
        target = Path(out) / name / spec.notebook
        write_notebook(solution_notebook(config, name), target)
        for _, filename in extra_files(name):
            shutil.copyfile(paths.RELEASE_DIR / name / filename, target.parent / filename)
        for _, folder in extra_folders(name):
            shutil.copytree(paths.RELEASE_DIR / name / folder, target.parent / folder, dirs_exist_ok=True)
        written.append(target)
    return written
