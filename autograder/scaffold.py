"""`tensorgrade new-assignment NAME`: a new assignment with one example function, gradeable at once.

Writes autograder/assignments/NAME/ (every part, see autograder/assignments/__init__.py), the reference
solutions/NAME.py, and NAME's entry in course_config.py's ASSIGNMENTS; the caller then builds and
releases its notebook. The example is `double(x)`, with one value check worth 10 points, one known mistake
(x + 2), and the starter catalogs the kit's tests grade (that mutant, caught and named; the variant x + x):
replace them.
With `--trained-model` the example is a classifier instead: `Classifier` and `train_epoch`, whose check trains
the student's model on points the assignment generates (trusted/hooks.py: its settings, data, secret test
points and calibration run) and compares the trained weights' accuracy with a threshold calibrated on first
grading and stored in its trusted/calibrations.json. Its probe records the model's parameters before and after
training (every key on every path: a value, or a skip saying why not), and its catalogs are its own: mutants
that never step and that climb the loss, named from that evidence (weights equal to the initial ones; a negative
loss), and variants that zero the gradients after stepping and that hold the ReLU as a module.
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

# --- `--trained-model`: an assignment whose check trains the student's model on data the assignment makes -----

TRAINED_FILES = {
    "trusted/known_wrong.py": '''\
"""Known-wrong submissions of {name} that `make demo` grades beside the reference."""
# Student id -> (the solution cell it replaces, by grade id; the cell's new source).
KNOWN_WRONG = {{
    "never_steps": ("train_epoch", """\\
def train_epoch(model, loader, optimizer, loss_fn):
    total, count = 0.0, 0
    for points, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(points), labels)
        loss.backward()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count
"""),
}}
''',
    "trusted/mistakes.py": '''\
"""Known mistakes of {name} that feedback names (autograder.diagnosis): grade id -> mistakes, each recognised from
the values the probe recorded (the student's code is never run here)."""
from __future__ import annotations

import torch

from ....diagnosis import Mistake
from ..child import keys


def _never_change(probe, inputs, quiet) -> bool:
    """Every trained parameter equals its value before training, bit for bit: no step was ever taken."""
    k = keys.ACCURACY
    return all(torch.equal(probe.tensor(k.trained(name), name), probe.tensor(k.initial(name), name))
               for name in keys.PARAMETERS)


def _loss_negative(probe, inputs, quiet) -> bool:
    """Every epoch's mean loss is below zero: cross-entropy never is, so the loss was negated."""
    epochs = range(int(inputs["epochs"]))
    return all(probe.number(keys.ACCURACY.epoch(epoch), "the epoch's loss") < 0 for epoch in epochs)


MISTAKES: dict[str, list[Mistake]] = {{
    keys.ACCURACY.grade_id: [
        Mistake("weights_never_change", ("accuracy",), "training never changed the weights",
                "train_epoch must call optimizer.step() after loss.backward() in every batch.", _never_change),
        Mistake("loss_negated", ("accuracy",), "train_epoch's loss is negative, so each step climbs it",
                "minimise loss_fn(model(points), labels) itself: do not negate it.", _loss_negative),
    ],
}}
''',
    "trusted/mutants.py": '''\
"""Known-wrong implementations of {name} ("mutants") that its hidden checks must catch (tests/test_mutants.py):
each replaces one solution cell (its grade_id), and every check in `catches` must fail."""
from __future__ import annotations

from ...catalog import Mutant, mutant

MUTANTS: list[Mutant] = [
    mutant("{name}_never_steps", "{name}", "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            total, count = 0.0, 0
            for points, labels in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(points), labels)
                loss.backward()
                total += loss.item() * len(labels)
                count += len(labels)
            return total / count
        """, {{"accuracy"}}),
    mutant("{name}_gradient_ascent", "{name}", "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            total, count = 0.0, 0
            for points, labels in loader:
                optimizer.zero_grad()
                loss = -loss_fn(model(points), labels)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(labels)
                count += len(labels)
            return total / count
        """, {{"accuracy"}}),
]
''',
    "trusted/variants.py": '''\
"""Correct solutions of {name} written differently from the reference: each must earn full marks
(tests/test_variants.py)."""
from __future__ import annotations

from ...catalog import Variant, variant

VARIANTS: list[Variant] = [
    variant("{name}_zero_grad_after_step", "{name}", train_epoch="""
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            losses = []
            for points, labels in loader:
                loss = loss_fn(model(points), labels)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                losses.append(loss.detach() * labels.shape[0])
            return float(torch.stack(losses).sum() / len(loader.dataset))
        """),
    variant("{name}_relu_module", "{name}", Classifier="""
        class Classifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(2, 16)
                self.act = nn.ReLU()
                self.fc2 = nn.Linear(16, 3)

            def forward(self, x):
                return self.fc2(self.act(self.fc1(x)))
        """),
]
''',
    "trusted/diagnoses.py": '''\
"""The known mistake (trusted/mistakes.py) each mutant of {name} (trusted/mutants.py) should be diagnosed with."""
from __future__ import annotations

EXPECTED: dict[str, set[str]] = {{
    "{name}_never_steps": {{"weights_never_change"}},
    "{name}_gradient_ascent": {{"loss_negated"}},
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
    """The source notebook of {name}, points and training budget from course_config.py."""
    pts = assignment.checks
    settings = assignment.settings
    return notebook([
        markdown(f"""
            # {name}

            Classify points of the plane into three classes: write `Classifier` (a `Linear(2, 16)` layer
            `fc1`, a ReLU, a `Linear(16, 3)` layer `fc2`) and `train_epoch`. The grader trains your model
            with your `train_epoch` ({{settings["epochs"]}} epochs of SGD, learning rate
            {{settings["learning_rate"]}}, batches of {{settings["batch_size"]}}) on its own points and measures
            the accuracy of the trained weights on points you never see.
        """),
        setup("setup_imports", """
            import torch
            from torch import nn
        """),
        solution(ref, "Classifier"),
        solution(ref, "train_epoch"),
        check("check_classifier", """
            assert Classifier()(torch.zeros(4, 2)).shape == (4, 3)
            print("Classifier: the shape looks right")
        """),
        graded("test_accuracy", pts["test_accuracy"], "train_epoch"),
    ])
''',
    "child/keys.py": '''\
"""Names shared by {name}'s probes (which record evidence) and hidden checks (which read it), each spelled
once: a probe's grade id (its graded cell, and its entry in course_config.py) and the keys it records under.

The child imports this module: it stays plain dataclasses, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...probe_keys import Probe


# The Classifier's parameters the probe records, before and after training.
PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


@dataclass(frozen=True)
class AccuracyKeys(Probe):
    """What probe_accuracy records: the model it built, its parameters before training, each epoch's result and
    the trained parameters."""

    net: str = "net"

    def epoch(self, index: int) -> str:
        """The result of train_epoch in epoch `index`."""
        return f"epoch_{{index}}"

    def initial(self, parameter: str) -> str:
        """A parameter ("fc1.weight") as Classifier() made it, before training."""
        return f"initial_{{parameter}}"

    def trained(self, parameter: str) -> str:
        """A trained parameter ("fc1.weight")."""
        return f"trained_{{parameter}}"

    def declared(self) -> tuple[str, ...]:
        """The fields' keys, and every parameter's initial and trained keys."""
        return (*super().declared(), *map(self.initial, PARAMETERS), *map(self.trained, PARAMETERS))


ACCURACY = AccuracyKeys("test_accuracy")
''',
    "child/inputs.py": '''\
"""Inputs for {name}'s probes. The points the accuracy check trains on, and its test points (which never enter
the child), are the assignment's data: trusted/hooks.py's data_inputs adds them."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # the child imports this module, and never the config
    from ....config import CourseConfig


def make_inputs(config: CourseConfig, seed: int) -> dict[str, torch.Tensor]:
    """Every tensor the probes need but the data, from the submission's seed (none yet)."""
    return {{}}
''',
    "child/probes.py": '''\
"""Probes of {name}: one per grade id, each calling student code in the sandbox child."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ....sandbox.recorder import Recorder
from ...probing import student
from . import keys

def _parameters(model: nn.Module) -> dict[str, torch.Tensor | None]:
    """The model's parameters by name (keys.PARAMETERS), None where it has no such tensor."""
    found = {{}}
    for name in keys.PARAMETERS:
        layer, parameter = name.split(".")
        value = getattr(getattr(model, layer, None), parameter, None)
        found[name] = value if isinstance(value, torch.Tensor) else None
    return found


def probe_accuracy(ns: dict, inputs: dict, rec: Recorder) -> None:
    """Train the student's Classifier with the student's train_epoch; record its parameters before and after (the
    test points never enter the child: the trusted process evaluates the weights).

    Every key is recorded on every path (a value, or a skip saying why not), so a key student code recorded
    first is sent twice and voids the probe."""
    cls = student(ns, "Classifier", rec)
    train_epoch = student(ns, "train_epoch", rec)
    k = keys.ACCURACY
    epochs = range(int(inputs["epochs"]))
    generator = torch.Generator().manual_seed(int(torch.initial_seed()))
    loader = DataLoader(TensorDataset(inputs["train_points"], inputs["train_labels"]),
                        batch_size=int(inputs["batch_size"]), shuffle=True, generator=generator)
    model = rec.call(k.net, cls)
    if not isinstance(model, nn.Module):
        for key in [*map(k.initial, keys.PARAMETERS), *map(k.epoch, epochs), *map(k.trained, keys.PARAMETERS)]:
            rec.skip(key, "Classifier() did not make an nn.Module: define class Classifier(nn.Module) whose "
                          "__init__ calls super().__init__() and makes fc1 and fc2")
        return
    for name, value in _parameters(model).items():
        rec.output(k.initial(name), value)
    optimizer = torch.optim.SGD(model.parameters(), lr=float(inputs["learning_rate"]))
    for epoch in epochs:
        if rec.call(k.epoch(epoch), train_epoch, model, loader, optimizer, nn.CrossEntropyLoss()) is None \
                and rec.meta[k.epoch(epoch)].get("kind") == "raised":
            for key in [*map(k.epoch, epochs[epoch + 1:]), *map(k.trained, keys.PARAMETERS)]:
                rec.skip(key, f"train_epoch raised in epoch {{epoch + 1}}, so the model was not trained to its end")
            return
    for name, value in _parameters(model).items():
        rec.output(k.trained(name), value)


PROBES = {{
    keys.ACCURACY.grade_id: probe_accuracy,
}}
''',
    "trusted/checks.py": '''\
"""Hidden checks of {name}. Each test is one check of course_config.py; run only in the trusted process."""
from __future__ import annotations

import torch

from autograder.assignments.{name}.child import keys
from autograder.calibration import threshold_for
from autograder.expect import expect, expect_shape
from solutions import {name} as ref

TRAINED_LAYERS = {{"fc1.weight": (16, 2), "fc1.bias": (16,), "fc2.weight": (3, 16), "fc2.bias": (3,)}}


def accuracy_of(weights: dict[str, torch.Tensor], inputs: dict) -> float:
    """Test accuracy of trained weights in the reference Classifier, on the secret test points."""
    model = ref.Classifier()
    with torch.no_grad():
        for name, value in weights.items():
            model.get_parameter(name).copy_(value)
        predicted = model.eval()(inputs["secret_test_points"]).argmax(dim=1)
    return float((predicted == inputs["secret_test_labels"]).float().mean())


def test_accuracy(evidence, inputs, config, record_property):
    # The threshold is calibrated (autograder.calibration): a correct solution misses it below 1 in 1,000.
    probe = evidence.probe(keys.ACCURACY.grade_id)
    what = f"your Classifier trained with your train_epoch on {{len(inputs['train_labels'])}} points"
    weights = {{}}
    for name, shape in TRAINED_LAYERS.items():
        weights[name] = probe.tensor(keys.ACCURACY.trained(name), f"{{what}}: its trained {{name}}")
        expect_shape(weights[name], shape, f"{{what}}: its trained {{name}}")
        expect(bool(torch.isfinite(weights[name]).all()), f"{{what}}: its trained {{name}} holds NaN or infinities")
    accuracy, threshold = accuracy_of(weights, inputs), threshold_for(config, "{name}")
    record_property("accuracy", accuracy)
    record_property("threshold", threshold)
    expect(accuracy >= threshold, f"{{what}}: expected at least {{threshold:.1%}} accuracy on "
                                  f"{{len(inputs['secret_test_labels'])}} test points, got {{accuracy:.1%}}")
''',
    "trusted/hooks.py": '''\
"""{name}'s hooks (autograder.hooks): its settings, the data it generates, what of it is secret, and what a
calibration of its accuracy check trains.

course_config.py is read with these settings' schema: torch is imported only where data is made."""
from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from ....calibration import TrainingData, fingerprint
from ....config import CourseConfig, Setting, fraction, number, optional

if TYPE_CHECKING:
    import torch

SETTINGS = {{
    "epochs": Setting(number(int, positive=True)),
    "batch_size": Setting(number(int, positive=True)),
    "learning_rate": Setting(number((int, float), positive=True)),
    "min_accuracy": Setting(optional(fraction, "the threshold calibrated for the data"), required=False),
}}
SECRET_INPUTS = frozenset({{"secret_test_points", "secret_test_labels"}})
CALIBRATED_CHECK = "test_accuracy"
# The data: three Gaussian blobs in the plane (centres on a circle of radius 2, spread 0.8), drawn once with a
# fixed seed, so every machine makes the same points.
CLASSES, TRAIN_PER_CLASS, TEST_PER_CLASS, RADIUS, SPREAD, DATA_SEED = 3, 500, 200, 2.0, 0.8, 0


@functools.lru_cache(maxsize=1)
def points() -> dict[str, torch.Tensor]:
    """The generated train and test points and labels."""
    import torch

    g = torch.Generator().manual_seed(DATA_SEED)
    result = {{}}
    for split, per_class in (("train", TRAIN_PER_CLASS), ("secret_test", TEST_PER_CLASS)):
        labels = torch.arange(CLASSES).repeat_interleave(per_class)
        angles = labels.double() * 2 * math.pi / CLASSES
        centres = torch.stack([angles.cos(), angles.sin()], dim=1) * RADIUS
        result[f"{{split}}_points"] = (centres + SPREAD * torch.randn(len(labels), 2, generator=g,
                                                                     dtype=torch.float64)).float()
        result[f"{{split}}_labels"] = labels
    return result


def data_inputs(config: CourseConfig, settings: dict) -> dict[str, torch.Tensor]:
    """The generated points and the training budget, as the probe reads them."""
    import torch

    return {{**points(), "epochs": torch.tensor(settings["epochs"]), "batch_size": torch.tensor(settings["batch_size"]),
            "learning_rate": torch.tensor(settings["learning_rate"])}}


def data_fingerprint(config: CourseConfig, settings: dict) -> str:
    """The labels' fingerprint: what every batch worker must generate alike."""
    data = points()
    return fingerprint(data["train_labels"].tolist(), data["secret_test_labels"].tolist())


def training_data(config: CourseConfig, settings: dict) -> TrainingData:
    """What a calibration is made on: the generated points and the training budget."""
    data = points()
    train, test = len(data["train_labels"]), len(data["secret_test_labels"])
    made = TrainingData("blobs", "generated", train, test, settings["epochs"], settings["batch_size"],
                        float(settings["learning_rate"]), data_fingerprint(config, settings))
    return TrainingData(**{{**made.__dict__, "title": "the generated points",
                           "summary": f"{{CLASSES}} Gaussian blobs ({{train:,}} train / {{test:,}} test points, labels "
                                      f"sha256 {{made.fingerprint}}), {{made.epochs}} epochs of SGD at lr "
                                      f"{{made.learning_rate:g}}, batch {{made.batch_size}}"}})


def check_notes(config: CourseConfig, settings: dict) -> dict[str, str]:
    """The accuracy check's output ends with the data it trained and tested on."""
    return {{CALIBRATED_CHECK: f"Data of this check: {{training_data(config, settings).describe()}}."}}


def calibration_run(seed: int, config: CourseConfig, settings: dict) -> float:
    """Test accuracy of the reference trained exactly as the grader trains a submission, probe seed `seed`."""
    import torch

    from solutions import {name} as ref

    from ....sandbox.recorder import Recorder
    from ..child.keys import ACCURACY
    from ..child.probes import probe_accuracy
    from .checks import TRAINED_LAYERS, accuracy_of

    inputs = data_inputs(config, settings)
    torch.manual_seed(seed)
    recorder = Recorder("calibration")
    probe_accuracy(vars(ref), inputs, recorder)
    return accuracy_of({{name: recorder.tensors[ACCURACY.trained(name)] for name in TRAINED_LAYERS}}, inputs)
''',
}

TRAINED_SOLUTION = '''\
"""Reference solution of {name}: the source notebook's solution cells are generated from it."""
from torch import nn


class Classifier(nn.Module):
    """Points of the plane -> logits of three classes: Linear(2, 16), ReLU, Linear(16, 3)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def train_epoch(model, loader, optimizer, loss_fn):
    """One epoch: for each batch zero the gradients, forward, backward, step; the mean loss over samples."""
    model.train()
    total, count = 0.0, 0
    for points, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(points), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


# Model answers of the free-response cells, by grade id (none yet).
ANSWERS = {{}}
'''

TRAINED_CONFIG_ENTRY = '''\
    "{name}": {{
        "notebook": "{name}.ipynb",
        "settings": {{
            # The accuracy check: the student's Classifier and train_epoch, trained for
            # `epochs` epochs of SGD (learning rate `learning_rate`, batches of
            # `batch_size` points) on the generated points, must reach the threshold.
            "epochs": 5,
            "batch_size": 32,
            "learning_rate": 0.1,
            # None: the threshold calibrated for this budget (on first grading; stored in
            # autograder/assignments/{name}/trusted/calibrations.json: commit it). A
            # fraction such as 0.8 is used as is.
            "min_accuracy": None,
        }},
        "checks": {{
            "test_accuracy": {{
                "accuracy": 10,
            }},
        }},
        "manual": {{}},
    }},
'''


def add_config_entry(config_path: Path, name: str, entry: str = CONFIG_ENTRY) -> None:
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
    lines.insert(last, entry.format(name=name))
    config_path.write_text("".join(lines))
    try:
        load_config(config_path)
    except ConfigError:
        config_path.write_text(text)
        raise


def new_assignment(name: str, config_path: Path, *, trained_model: bool = False) -> list[Path]:
    """Scaffold assignment `name` (with `trained_model`: a check that trains the student's model on data the
    assignment generates, its threshold calibrated on first grading); returns the files written or changed."""
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
    files = {**FILES, **TRAINED_FILES} if trained_model else FILES
    for filename, template in files.items():
        (folder / filename).parent.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_text(template.format(name=name))
        written.append(folder / filename)
    solution.write_text((TRAINED_SOLUTION if trained_model else SOLUTION).format(name=name))
    add_config_entry(config.path, name, TRAINED_CONFIG_ENTRY if trained_model else CONFIG_ENTRY)
    return [*written, solution, config.path]
