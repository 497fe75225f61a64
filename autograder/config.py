"""Load and validate course_config.py: the one file an instructor edits."""
from __future__ import annotations

import importlib.util
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .paths import DEFAULT_CONFIG, data_cache, grading_secret

DATASETS = ("MNIST", "FashionMNIST")
DATA_SOURCES = ("torchvision", "offline", "auto")


class ConfigError(ValueError):
    """A setting in course_config.py is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Assignment:
    """One assignment: its notebook and the points of each check, by grade_id."""

    name: str
    notebook: str
    checks: dict[str, dict[str, float]]
    manual: dict[str, float]

    @property
    def check_points(self) -> dict[str, float]:
        """Points of every auto-graded check, by check name."""
        return {name: pts for group in self.checks.values() for name, pts in group.items()}

    @property
    def grade_id_of(self) -> dict[str, str]:
        """The nbgrader grade_id that reports each check."""
        return {name: gid for gid, group in self.checks.items() for name in group}

    @property
    def max_score(self) -> float:
        """Auto-graded and manual points together."""
        return sum(self.check_points.values()) + sum(self.manual.values())


@dataclass(frozen=True)
class CourseConfig:
    """Validated course settings (see course_config.py for what each one changes)."""

    path: Path
    course_id: str
    grading_seed: int
    grading_secret_file: Path
    dataset: str
    data_source: str
    data_root: Path
    cell_time_limit_s: float
    check_time_limit_s: float
    submission_time_limit_s: float
    memory_limit_mb: int
    tmp_limit_mb: int
    output_limit_mb: int
    max_processes: int
    parallel_submissions: int | None  # None: one per core
    dask_scheduler: str | None  # None: a local cluster of parallel_submissions worker processes
    allow_weak_isolation: bool
    mnist_epochs: int
    mnist_batch_size: int
    mnist_learning_rate: float
    mnist_min_accuracy: float | None  # None: autograder.calibration.threshold_for finds it
    assignments: dict[str, Assignment]

    def assignment(self, name: str) -> Assignment:
        """The assignment called `name`, or a ConfigError listing the known ones."""
        try:
            return self.assignments[name]
        except KeyError:
            known = ", ".join(sorted(self.assignments))
            raise ConfigError(f"unknown assignment {name!r}; course_config.py defines: {known}") from None


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("course_config", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot read course configuration {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - any error in the instructor's file means the same: fix it
        where = next((f" line {f.lineno}" for f in reversed(traceback.extract_tb(err.__traceback__))
                      if Path(f.filename) == path), "")
        if isinstance(err, SyntaxError) and err.lineno:
            where = f" line {err.lineno}"
        raise ConfigError(f"course configuration {path} cannot be loaded ({type(err).__name__}{where}: "
                          f"{getattr(err, 'msg', None) or err}): fix that line and run again") from None
    return module


def _get(module: ModuleType, name: str, kind: type | tuple[type, ...], *, positive: bool = False) -> Any:
    if not hasattr(module, name):
        raise ConfigError(f"course_config.py: {name} is missing")
    value = getattr(module, name)
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"course_config.py: {name} must be {expected}, not {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"course_config.py: {name} must be positive, not {value!r}")
    return value


def _flag(module: ModuleType, name: str, *, default: bool) -> bool:
    value = getattr(module, name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"course_config.py: {name} must be True or False, not {value!r}")
    return value


def _choice(module: ModuleType, name: str, choices: tuple[str, ...]) -> str:
    value = _get(module, name, str)
    if value not in choices:
        raise ConfigError(f"course_config.py: {name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _points(where: str, table: Any) -> dict[str, float]:
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"course_config.py: {where} must be a non-empty dict of name -> points")
    for name, pts in table.items():
        if not isinstance(name, str) or isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts <= 0:
            raise ConfigError(f"course_config.py: {where}[{name!r}] must be positive points, not {pts!r}")
    return dict(table)


def _assignments(module: ModuleType) -> dict[str, Assignment]:
    table = _get(module, "ASSIGNMENTS", dict)
    result = {}
    for name, spec in table.items():
        where = f"ASSIGNMENTS[{name!r}]"
        if not isinstance(spec, dict):
            raise ConfigError(f"course_config.py: {where} must be a dict")
        for key in ("notebook", "checks", "manual"):
            if key not in spec:
                raise ConfigError(f"course_config.py: {where} needs {key!r}")
        if not isinstance(spec["notebook"], str) or not spec["notebook"].endswith(".ipynb"):
            raise ConfigError(f"course_config.py: {where}['notebook'] must name an .ipynb file")
        checks = spec["checks"]
        if not isinstance(checks, dict) or not checks:
            raise ConfigError(f"course_config.py: {where}['checks'] must map grade ids to check points")
        groups = {gid: _points(f"{where}['checks'][{gid!r}]", group) for gid, group in checks.items()}
        names = [n for group in groups.values() for n in group]
        if len(names) != len(set(names)):
            raise ConfigError(f"course_config.py: {where}['checks'] names a check twice")
        manual = _points(f"{where}['manual']", spec["manual"]) if spec["manual"] else {}
        result[name] = Assignment(name, spec["notebook"], groups, manual)
    return result


def _optional_count(module: ModuleType, name: str) -> int | None:
    return None if getattr(module, name, None) is None else _get(module, name, int, positive=True)


def _scheduler(module: ModuleType) -> str | None:
    value = getattr(module, "DASK_SCHEDULER", None)
    if value is not None and (not isinstance(value, str) or "://" not in value):
        raise ConfigError(f"course_config.py: DASK_SCHEDULER must be None or an address such as "
                          f"'tcp://scheduler:8786', not {value!r}")
    return value


def load_config(path: str | os.PathLike | None = None) -> CourseConfig:
    """Read and validate course_config.py (default: $TENSORGRADE_CONFIG, else the project's)."""
    path = Path(path or os.environ.get("TENSORGRADE_CONFIG") or DEFAULT_CONFIG).resolve()
    if not path.is_file():
        raise ConfigError(f"course configuration not found: {path}")
    m = _module(path)
    data_root = getattr(m, "DATA_ROOT", None)
    if data_root is None:
        root = data_cache()
    elif isinstance(data_root, (str, os.PathLike)):
        root = (path.parent / data_root).resolve()
    else:
        raise ConfigError(f"course_config.py: DATA_ROOT must be a path or None, not {data_root!r}")
    secret_file = getattr(m, "GRADING_SECRET_FILE", None)
    if secret_file is None:
        secret_path = grading_secret()
    elif isinstance(secret_file, (str, os.PathLike)):
        secret_path = (path.parent / secret_file).resolve()
    else:
        raise ConfigError(f"course_config.py: GRADING_SECRET_FILE must be a path or None, not {secret_file!r}")
    accuracy = getattr(m, "MNIST_MIN_ACCURACY", None)
    if accuracy is not None and (isinstance(accuracy, bool) or not isinstance(accuracy, (int, float))
                                 or not 0 < accuracy < 1):
        raise ConfigError("course_config.py: MNIST_MIN_ACCURACY must be None (the threshold calibrated for the "
                          f"configured data) or a fraction in (0, 1), not {accuracy!r}")
    return CourseConfig(
        path=path,
        course_id=_get(m, "COURSE_ID", str),
        grading_seed=_get(m, "GRADING_SEED", int),
        grading_secret_file=secret_path,
        dataset=_choice(m, "DATASET", DATASETS),
        data_source=_choice(m, "DATA_SOURCE", DATA_SOURCES),
        data_root=root,
        cell_time_limit_s=_get(m, "CELL_TIME_LIMIT_S", (int, float), positive=True),
        check_time_limit_s=_get(m, "CHECK_TIME_LIMIT_S", (int, float), positive=True),
        submission_time_limit_s=_get(m, "SUBMISSION_TIME_LIMIT_S", (int, float), positive=True),
        memory_limit_mb=_get(m, "MEMORY_LIMIT_MB", int, positive=True),
        tmp_limit_mb=_get(m, "TMP_LIMIT_MB", int, positive=True),
        output_limit_mb=_get(m, "OUTPUT_LIMIT_MB", int, positive=True),
        max_processes=_get(m, "MAX_PROCESSES", int, positive=True),
        parallel_submissions=_optional_count(m, "PARALLEL_SUBMISSIONS"),
        dask_scheduler=_scheduler(m),
        allow_weak_isolation=_flag(m, "ALLOW_WEAK_ISOLATION", default=False),
        mnist_epochs=_get(m, "MNIST_EPOCHS", int, positive=True),
        mnist_batch_size=_get(m, "MNIST_BATCH_SIZE", int, positive=True),
        mnist_learning_rate=_get(m, "MNIST_LEARNING_RATE", (int, float), positive=True),
        mnist_min_accuracy=None if accuracy is None else float(accuracy),
        assignments=_assignments(m),
    )
