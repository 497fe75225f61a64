"""`tensorgrade new-assignment NAME`: a new assignment with one example function, gradeable at once.

Writes autograder/assignments/NAME/ (every part, see autograder/assignments/__init__.py), the reference
solutions/NAME.py, and NAME's entry in course_config.py's ASSIGNMENTS; the caller then builds and
releases its notebook. The example is `double(x)`, with one value check worth 10 points, one known mistake
(x + 2), and the starter catalogs the kit's tests grade (that mutant, caught and named; the variant x + x):
replace them.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from . import assignments
from .config import ConfigError, load_config
from .paths import SOLUTIONS_DIR

NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")

FILES = {
    "__init__.py": '''\
"""{name}: (say what the assignment teaches).

Its parts are listed in autograder/assignments/__init__.py (child/: what the sandbox mounts; trusted/: what
only the grader reads); its reference is solutions/{name}.py.
"""
''',
    "child/__init__.py": '''\
"""{name}'s child side: what the sandbox child imports (keys, inputs and probe models, probes)."""
''',
    "trusted/__init__.py": '''\
"""{name}'s trusted side: read by the grader only; never mounted into a child (nor readable by it on
Gradescope)."""
''',
    "trusted/known_wrong.py": '''\
"""Known-wrong submissions of {name} that `make demo` grades beside the reference."""
# Student id -> (the solution cell it replaces, by grade id; the cell's new source).
KNOWN_WRONG = {{
    "adds_two": ("double", "def double(x):\\n    return x + 2\\n"),
}}
''',
    "trusted/mistakes.py": '''\
"""Known mistakes of {name} that feedback names (autograder.diagnosis): grade id -> mistakes."""
from __future__ import annotations

from ....diagnosis import Mistake, close, tensor
from ..child import keys

MISTAKES: dict[str, list[Mistake]] = {{
    keys.DOUBLE.grade_id: [
        Mistake("adds_two", ("double_values",), "adds two instead of multiplying by two",
                "double(x) is 2 * x (or x + x), not x + 2.",
                lambda probe, inputs, quiet: close(tensor(probe, keys.DOUBLE.returned), inputs["double_x"] + 2,
                                                   rtol=0.0, atol=0.0)),
    ],
}}
''',
    "trusted/mutants.py": '''\
"""Known-wrong implementations of {name} ("mutants") that its hidden checks must catch (tests/test_mutants.py):
each replaces one solution cell (its grade_id), and every check in `catches` must fail."""
from __future__ import annotations

from ...catalog import Mutant, mutant

MUTANTS: list[Mutant] = [
    mutant("{name}_adds_two", "{name}", "double", """
        def double(x):
            return x + 2
        """, {{"double_values"}}),
]
''',
    "trusted/variants.py": '''\
"""Correct solutions of {name} written differently from the reference: each must earn full marks
(tests/test_variants.py)."""
from __future__ import annotations

from ...catalog import Variant, variant

VARIANTS: list[Variant] = [
    variant("{name}_x_plus_x", "{name}", double="""
        def double(x):
            return x + x
        """),
]
''',
    "trusted/diagnoses.py": '''\
"""The known mistake (trusted/mistakes.py) each mutant of {name} (trusted/mutants.py) should be diagnosed with."""
from __future__ import annotations

EXPECTED: dict[str, set[str]] = {{
    "{name}_adds_two": {{"adds_two"}},
}}
''',
    "trusted/notebook.py": '''\
"""The {name} notebook: its text, setup, solution cells, visible checks and graded cells."""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode

from solutions import {name} as ref

from ....authoring.cells import check, graded, markdown, notebook, setup, solution
from ....config import Assignment, CourseConfig


def build(assignment: Assignment, config: CourseConfig) -> NotebookNode:
    """The source notebook of {name}, points from course_config.py."""
    pts = assignment.checks
    return notebook([
        markdown("""
            # {name}

            Implement `double`: it returns its input times two, for numbers and tensors alike.
        """),
        setup("setup_imports", """
            import torch
        """),
        solution(ref, "double"),
        check("check_double", """
            assert torch.equal(double(torch.tensor([1.0, -2.0])), torch.tensor([2.0, -4.0]))
            print("double: looks right")
        """),
        graded("test_double", pts["test_double"], "double"),
    ])
''',
    "child/keys.py": '''\
"""Names shared by {name}'s probes (which record evidence) and hidden checks (which read it), each spelled
once: a probe's grade id (its graded cell, and its entry in course_config.py) and the keys it records under.

The child imports this module: it stays plain dataclasses, no torch. One keys class per probe, one field per
key (a method for keys that take a number, such as an epoch).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...probe_keys import Probe


@dataclass(frozen=True)
class DoubleKeys(Probe):
    """What probe_double records: double on a tensor [5, 3]."""

    returned: str = "returned"


DOUBLE = DoubleKeys("test_double")
''',
    "child/inputs.py": '''\
"""Inputs for {name}'s probes, drawn from one submission's seed (autograder.seeds)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # the child imports this module, and never the config
    from ....config import CourseConfig


def make_inputs(config: CourseConfig, seed: int) -> dict[str, torch.Tensor]:
    """Every tensor the probes need, from the submission's seed."""
    g = torch.Generator().manual_seed(seed)
    return {{"double_x": torch.randn((5, 3), generator=g)}}
''',
    "child/probes.py": '''\
"""Probes of {name}: one per grade id, each calling one student function in the sandbox child."""
from __future__ import annotations

from ....sandbox.recorder import Recorder
from ...probing import student
from . import keys


def probe_double(ns: dict, inputs: dict, rec: Recorder) -> None:
    f = student(ns, "double", rec)
    rec.call(keys.DOUBLE.returned, f, inputs["double_x"].clone())


PROBES = {{
    keys.DOUBLE.grade_id: probe_double,
}}
''',
    "trusted/checks.py": '''\
"""Hidden checks of {name}. Each test is one check of course_config.py; run only in the trusted process."""
from __future__ import annotations

from autograder.assignments.{name}.child import keys
from autograder.expect import expect_close
from solutions import {name} as ref

# Doubling a float32 is exact (2 * x, x + x and x * 2 agree bit for bit): no tolerance is needed.
EXACT = dict(rtol=0.0, atol=0.0)


def test_double_values(evidence, inputs):
    what = "double on a tensor [5, 3]"
    out = evidence.probe(keys.DOUBLE.grade_id).tensor(keys.DOUBLE.returned, what)
    expect_close(out, ref.double(inputs["double_x"]), what, **EXACT)
''',
}

SOLUTION = '''\
"""Reference solution of {name}: the source notebook's solution cells are generated from it."""


def double(x):
    """x times two (a number or a tensor)."""
    return 2 * x


# Model answers of the free-response cells, by grade id (none yet).
ANSWERS = {{}}
'''

CONFIG_ENTRY = '''\
    "{name}": {{
        "notebook": "{name}.ipynb",
        "checks": {{
            "test_double": {{
                "double_values": 10,
            }},
        }},
        "manual": {{}},
    }},
'''


def add_config_entry(config_path: Path, name: str) -> None:
    """Append `name`'s entry to ASSIGNMENTS in course_config.py, keeping the rest of the text as it is."""
    text = config_path.read_text()
    node = next((n for n in ast.parse(text).body if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "ASSIGNMENTS" for t in n.targets)), None)
    if node is None or not isinstance(node.value, ast.Dict):
        raise ConfigError(f"{config_path}: no ASSIGNMENTS = {{...}} to add {name} to")
    lines = text.splitlines(keepends=True)
    last = node.value.end_lineno - 1  # the line of the closing brace
    if lines[last].strip() != "}":
        raise ConfigError(f"{config_path}: ASSIGNMENTS must end with a line holding only its closing brace")
    lines.insert(last, CONFIG_ENTRY.format(name=name))
    config_path.write_text("".join(lines))
    try:
        load_config(config_path)
    except ConfigError:
        config_path.write_text(text)
        raise


def new_assignment(name: str, config_path: Path) -> list[Path]:
    """Scaffold assignment `name`; returns the files written or changed."""
    if not NAME.fullmatch(name):
        raise ConfigError(f"assignment name {name!r}: use lower-case letters, digits and _, starting with a letter")
    config = load_config(config_path)
    folder = assignments.folder(name)
    solution = SOLUTIONS_DIR / f"{name}.py"
    for taken in (folder, solution):
        if taken.exists():
            raise ConfigError(f"{taken} exists already: choose another name")
    if name in config.assignments:
        raise ConfigError(f"course_config.py already has an assignment {name}")
    written = []
    for filename, template in FILES.items():
        (folder / filename).parent.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_text(template.format(name=name))
        written.append(folder / filename)
    solution.write_text(SOLUTION.format(name=name))
    add_config_entry(config.path, name)
    return [*written, solution, config.path]
