"""The assignments, one folder each: everything the kit knows about one graded notebook.

    autograder/assignments/<name>/
      __init__.py   a docstring, and KNOWN_WRONG: the demo's known-wrong submissions
      notebook.py   build(assignment, config): the notebook's text, setup, visible checks, graded cells
      keys.py       the names of what each probe records and its hidden check reads (named once)
      inputs.py     make_inputs(config, seed): the grader's inputs; the probe models and stand-ins
      probes.py     PROBES: grade id -> the probe the sandbox child runs for it
      checks.py     the hidden checks (pytest), run only in the trusted process

The reference is solutions/<name>.py (with the model answers of the free-response cells); the points
are course_config.py's. An assignment is a name in course_config.py's ASSIGNMENTS with a folder here:
nothing else lists them (tests/test_consistency.py ties the two together).

The child's root holds this package, but never a file named HIDDEN: that one name is what keeps the
hidden checks (and nothing else here is secret: the notebook's text is released) from student code.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

HIDDEN = "checks.py"
PARTS = ("notebook", "keys", "inputs", "probes", "checks")
FOLDER = Path(__file__).resolve().parent
# The hidden checks' pytest configuration (the `requires` marker); the suites run with it as rootdir.
PYTEST_INI = FOLDER / "pytest.ini"


def names() -> list[str]:
    """Every assignment folder here (a package holding probes.py), sorted."""
    return sorted(info.name for info in pkgutil.iter_modules([str(FOLDER)])
                  if info.ispkg and (FOLDER / info.name / "probes.py").is_file())


def folder(name: str) -> Path:
    """The folder of assignment `name`."""
    return FOLDER / name


def module(name: str, part: str) -> ModuleType:
    """One part (PARTS) of assignment `name`, imported: module("part2_mnist", "probes")."""
    if part not in PARTS:
        raise KeyError(f"an assignment has no part {part!r}; its parts are {', '.join(PARTS)}")
    return importlib.import_module(f"{__name__}.{name}.{part}")


def checks_file(name: str) -> Path:
    """The hidden checks of assignment `name`: the file pytest runs in the trusted process."""
    return FOLDER / name / HIDDEN
