"""What an assignment adds to the engine: the hooks in its trusted/hooks.py, each optional, with defaults here.

The engine knows no assignment: it asks these hooks for what only the assignment knows (its settings, its
data, what of its inputs is secret, what its calibrated check trains). An assignment without data writes no
hooks.py at all. In autograder/assignments/<name>/trusted/hooks.py, any of:

    SETTINGS: dict[str, config.Setting]     the schema of its entry's "settings" in course_config.py ({})
    SECRET_INPUTS: frozenset[str]           grader inputs that never enter the child (none)
    data_inputs(config, settings)           tensors of its data, added to child/inputs.make_inputs' ({})
    data_fingerprint(config, settings)      what every batch worker must read alike before it grades (None)
    host_folders(config, settings)          host folders the sandbox hides from the child: its data ([])
    check_notes(config, settings)           grade id -> a sentence that ends that check's output ({})
    CALIBRATED_CHECK: str                   the grade id of a check whose threshold is calibrated (None)
    training_data(config, settings)         what a calibration is made on (calibration.TrainingData)
    calibration_run(seed, config, settings) one training run of the reference as the check trains: its accuracy

A calibrated check's settings hold "min_accuracy" (calibration.FIXED_THRESHOLD): None for the calibrated
threshold, a fraction to fix it. `settings` is the assignment's validated settings (config.Assignment.settings);
`config` the whole CourseConfig (its path, for relative paths).
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from .assignments import TRUSTED, folder


def _none(config, settings) -> None:
    return None


def _empty_dict(config, settings) -> dict:
    return {}


def _empty_list(config, settings) -> list:
    return []


DEFAULTS: dict[str, Any] = {
    "SETTINGS": {},
    "SECRET_INPUTS": frozenset(),
    "data_inputs": _empty_dict,
    "data_fingerprint": _none,
    "host_folders": _empty_list,
    "check_notes": _empty_dict,
    "CALIBRATED_CHECK": None,
    "training_data": None,
    "calibration_run": None,
}


@dataclass(frozen=True)
class Hooks:
    """One assignment's hooks, its settings bound: `of(name).data_inputs(config)`."""

    name: str
    module: ModuleType | None

    def _get(self, hook: str) -> Any:
        return getattr(self.module, hook, DEFAULTS[hook]) if self.module is not None else DEFAULTS[hook]

    @property
    def settings(self) -> dict:
        """The schema of the assignment's settings."""
        return self._get("SETTINGS")

    @property
    def secret_inputs(self) -> frozenset[str]:
        """The grader inputs that never enter the child."""
        return frozenset(self._get("SECRET_INPUTS"))

    @property
    def calibrated_check(self) -> str | None:
        """The grade id of the check whose threshold is calibrated, or None."""
        return self._get("CALIBRATED_CHECK")

    def bound(self, hook: str, config) -> Callable[..., Any]:
        """Hook `hook` with the assignment's settings bound: called with what comes before them."""
        function = self._get(hook)
        if function is None:
            raise LookupError(f"assignment {self.name} declares CALIBRATED_CHECK but no {hook} in its trusted/hooks.py")
        settings = config.assignment(self.name).settings
        return lambda *args: function(*args, config, settings)

    def data_inputs(self, config) -> dict:
        """The tensors of the assignment's data (read once per process by the hook)."""
        return self.bound("data_inputs", config)()

    def data_fingerprint(self, config) -> str | None:
        """What every worker must read alike before grading the assignment; None where it has no data."""
        return self.bound("data_fingerprint", config)()

    def host_folders(self, config) -> list[str]:
        """Host folders the child must not read (the assignment's data)."""
        return [str(f) for f in self.bound("host_folders", config)()]

    def check_notes(self, config) -> dict[str, str]:
        """Grade id -> a sentence that ends that check's output, passed or not."""
        return self.bound("check_notes", config)()


@functools.lru_cache(maxsize=None)
def of(name: str) -> Hooks:
    """The hooks of assignment `name`: its trusted/hooks.py, or the defaults where it has none."""
    if not (folder(name) / TRUSTED / "hooks.py").is_file():
        return Hooks(name, None)
    return Hooks(name, importlib.import_module(f"autograder.assignments.{name}.{TRUSTED}.hooks"))
