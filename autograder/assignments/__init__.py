"""The assignments, one folder each: everything the kit knows about one graded notebook, split by trust.

    autograder/assignments/<name>/
      __init__.py        a docstring
      child/             what the sandbox child may import (mounted into its root; the Gradescope zip leaves it
                         readable): nothing here is secret
        keys.py          the names of what each probe records and its hidden check reads (named once)
        inputs.py        make_inputs(config, seed): the grader's inputs; the probe models and stand-ins
        probes.py        PROBES: grade id -> the probe the sandbox child runs for it
      trusted/           what only the grader reads (never mounted; unreadable to the child in a Gradescope zip)
        notebook.py      build(assignment, config): the notebook's text, setup, visible checks, graded cells
        checks.py        the hidden checks (pytest), run only in the trusted process
        mistakes.py      MISTAKES: the known mistakes diagnosis names (autograder.diagnosis)
        known_wrong.py   KNOWN_WRONG: the demo's known-wrong submissions
        mutants.py       MUTANTS: known-wrong code the hidden checks must catch (entries: catalog.py)
        variants.py      VARIANTS: correct code written differently, which must earn full marks
        diagnoses.py     EXPECTED: the mistake each mutant should be diagnosed with
        hooks.py         optional: its settings' schema, its data, secret inputs, calibration run (autograder.hooks)
        calibrations.json  the calibrated thresholds of its calibrated check, if it has one (autograder.calibration)

The reference is solutions/<name>.py (with the model answers of the free-response cells); the points
are course_config.py's. An assignment is a name in course_config.py's ASSIGNMENTS with a folder here:
nothing else lists them (tests/test_consistency.py ties the two together).

One rule, `child_may_read`, says by folder which of the kit's files a child may read: the sandbox mounts
exactly those, and the Gradescope zip makes every other file under autograder/ readable by the grader alone.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path, PurePosixPath
from types import ModuleType

from .probe_keys import Probe

CHILD, TRUSTED = "child", "trusted"
SIDE = {"keys": CHILD, "inputs": CHILD, "probes": CHILD,
        "notebook": TRUSTED, "checks": TRUSTED, "mistakes": TRUSTED, "known_wrong": TRUSTED,
        "mutants": TRUSTED, "variants": TRUSTED, "diagnoses": TRUSTED}
PARTS = tuple(SIDE)
FOLDER = Path(__file__).resolve().parent
# The hidden checks' pytest configuration (the `requires` marker); the suites run with it as rootdir.
PYTEST_INI = FOLDER / "pytest.ini"
# The kit's files every child may read: the sandbox itself, and what every assignment's probes share.
CHILD_COMMON = ("autograder/__init__.py", "autograder/paths.py", "autograder/sandbox/",
                "autograder/assignments/__init__.py", "autograder/assignments/probing.py",
                "autograder/assignments/probe_keys.py")


def names() -> list[str]:
    """Every assignment folder here (a package holding child/probes.py), sorted."""
    return sorted(info.name for info in pkgutil.iter_modules([str(FOLDER)])
                  if info.ispkg and (FOLDER / info.name / CHILD / "probes.py").is_file())


def folder(name: str) -> Path:
    """The folder of assignment `name`."""
    return FOLDER / name


def module(name: str, part: str) -> ModuleType:
    """One part (PARTS) of assignment `name`, imported from its side: module(name, "probes")."""
    if part not in SIDE:
        raise KeyError(f"an assignment has no part {part!r}; its parts are {', '.join(PARTS)}")
    return importlib.import_module(f"{__name__}.{name}.{SIDE[part]}.{part}")


def declared_keys(name: str) -> dict[str, tuple[str, ...]]:
    """Each probe's declared keys (Probe.declared) by grade id, from assignment `name`'s keys.py."""
    return {value.grade_id: value.declared() for value in vars(module(name, "keys")).values()
            if isinstance(value, Probe)}


def part_file(name: str, part: str) -> Path:
    """The file of one part (PARTS) of assignment `name`: folder(name)/<side>/<part>.py."""
    return FOLDER / name / SIDE[part] / f"{part}.py"


def child_may_read(relative: str) -> bool:
    """The one rule of what a sandbox child may read of the kit: `relative` (a posix path from the project's
    root) is a Python file of the sandbox, of what all probes share, or of an assignment's child/ folder (or
    the assignment package's own __init__.py). Everything else under autograder/ is the trusted side."""
    if not relative.endswith(".py"):
        return False
    if relative.startswith(CHILD_COMMON):
        return True
    parts = PurePosixPath(relative).parts
    return (len(parts) >= 4 and parts[:2] == ("autograder", "assignments")
            and (parts[3] == CHILD or (len(parts) == 4 and parts[3] == "__init__.py")))


def checks_file(name: str) -> Path:
    """The hidden checks of assignment `name`: the file pytest runs in the trusted process."""
    return part_file(name, "checks")
