"""What every process of the kit pays to start: the autograde command, each Dask worker, each test's command."""
from __future__ import annotations

import subprocess
import sys

READ_NOTEBOOKS = """
import sys, autograder, nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
nbformat.validate(nb)
nb.cells[0]["cell_type"] = "no such type"
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("invalid notebook refused")
print("grammar built" if "lark" in sys.modules else "no grammar")
"""


def test_the_kit_validates_notebooks_without_building_jsonschemas_iri_grammar():
    """jsonschema imports rfc3987_syntax (1.6 s: it builds an IRI grammar with lark) for a string format no
    notebook schema uses; importing autograder first leaves it out, and nbformat still refuses invalid notebooks."""
    done = subprocess.run([sys.executable, "-c", READ_NOTEBOOKS], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["invalid notebook refused", "no grammar"], done.stdout + done.stderr


START_ENGINE = """
import sys
from autograder import cli, engine, operator_checks, pending
from autograder.config import load_config
from autograder.paths import CourseLayout
from autograder.sandbox.limits import isolation
print(sorted(m for m in ("torch", "torchvision", "autograder.grading", "autograder.cluster") if m in sys.modules))
"""


def test_the_autograde_command_starts_its_engine_before_importing_torch_or_the_grader():
    """What `autograde` needs before it starts the engine (its checks, the pending submissions, the engine) imports
    neither torch nor the grader, so the workers import theirs while the command imports its own."""
    done = subprocess.run([sys.executable, "-c", START_ENGINE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
