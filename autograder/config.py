"""Load and validate course_config.py: the one file an instructor edits.

Every setting is declared once, in SETTINGS: its name, what it must be, and its default when it may be left
out. `validate` checks a table of values against such a schema (unknown names, with the setting likely meant;
missing ones; bad values). An assignment declares the schema of its own settings (its entry's "settings" in
ASSIGNMENTS: its data, its training budget) in its hooks (autograder.hooks), checked by the same function,
with the same one-line errors.
"""
from __future__ import annotations

import ast
import difflib
import importlib.util
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from .paths import DEFAULT_CONFIG, grading_secret


class ConfigError(ValueError):
    """A setting in course_config.py is missing or invalid; the message names it and the file."""


class _Invalid(ValueError):
    """A value a rule refuses; the message says what the value must be ("must be positive")."""


Rule = Callable[[Any], Any]  # a value -> the value to use, or _Invalid


@dataclass(frozen=True)
class Setting:
    """One setting of a schema: its rule, and its default where it may be left out."""

    rule: Rule
    required: bool = True
    default: Any = None


def number(kind: type | tuple[type, ...], *, positive: bool = False) -> Rule:
    """A value of `kind` (never a bool), positive when asked."""
    expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)

    def rule(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, kind):
            raise _Invalid(f"must be {expected}")
        if positive and value <= 0:
            raise _Invalid("must be positive")
        return value
    return rule


def choice(*choices: str) -> Rule:
    """One of `choices`."""
    def rule(value: Any) -> Any:
        if value not in choices:
            raise _Invalid(f"must be one of {', '.join(choices)}")
        return value
    return rule


def flag(value: Any) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise _Invalid("must be True or False")
    return value


def optional(rule: Rule, none_means: str) -> Rule:
    """None, or what `rule` accepts."""
    def optional_rule(value: Any) -> Any:
        if value is None:
            return None
        try:
            return rule(value)
        except _Invalid as err:
            raise _Invalid(f"must be None ({none_means}) or {str(err).removeprefix('must be ')}") from None
    return optional_rule


def path_or_none(value: Any) -> Any:
    """A path (str or os.PathLike) or None."""
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise _Invalid("must be a path or None")
    return value


def fraction(value: Any) -> float:
    """A number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise _Invalid("must be a fraction in (0, 1)")
    return float(value)


def address(value: Any) -> str:
    """A Dask scheduler's address, such as tcp://scheduler:8786."""
    if not isinstance(value, str) or "://" not in value:
        raise _Invalid("must be an address such as 'tcp://scheduler:8786'")
    return value


def table(value: Any) -> dict:
    """A dict."""
    if not isinstance(value, dict):
        raise _Invalid("must be a dict")
    return value


SETTINGS: dict[str, Setting] = {
    "COURSE_ID": Setting(number(str)),
    "GRADING_SEED": Setting(number(int)),
    "GRADING_SECRET_FILE": Setting(path_or_none, required=False),
    "CELL_TIME_LIMIT_S": Setting(number((int, float), positive=True)),
    "CHECK_TIME_LIMIT_S": Setting(number((int, float), positive=True)),
    "SUBMISSION_TIME_LIMIT_S": Setting(number((int, float), positive=True)),
    "MEMORY_LIMIT_MB": Setting(number(int, positive=True)),
    "TMP_LIMIT_MB": Setting(number(int, positive=True)),
    "OUTPUT_LIMIT_MB": Setting(number(int, positive=True)),
    "MAX_PROCESSES": Setting(number(int, positive=True)),
    "PARALLEL_SUBMISSIONS": Setting(optional(number(int, positive=True), "one per core"), required=False),
    "DASK_SCHEDULER": Setting(optional(address, "a local cluster"), required=False),
    "ALLOW_WEAK_ISOLATION": Setting(flag, required=False, default=False),
    "ASSIGNMENTS": Setting(table),
}
# The keys of one entry of ASSIGNMENTS (its points are checked against the assignment's hidden checks; its
# settings against the schema its hooks declare).
ASSIGNMENT_KEYS: dict[str, Setting] = {
    "notebook": Setting(number(str)),
    "settings": Setting(optional(table, "no settings"), required=False),
    "checks": Setting(table),
    "manual": Setting(optional(table, "no free-response cells"), required=False),
}


def _likely(name: str, known: Any, *, quoted: bool = False) -> str:
    """' (did you mean X?)' for the known name closest to a misspelt one (as a string literal when `quoted`),
    else ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close and quoted else f" (did you mean {close[0]}?)" if close else ""


def validate(values: Mapping[str, Any], schema: Mapping[str, Setting], where: str) -> dict[str, Any]:
    """Every setting of `schema` from `values`, checked: unknown names (with the one likely meant), missing
    ones and bad values raise ConfigError naming `where` (the file, and the entry in it)."""
    for name in values:
        if name not in schema:
            likely = _likely(name, schema)
            raise ConfigError(f"{where}: {name} is not a setting"
                              + (likely or (f"; the settings are {', '.join(schema)}" if schema
                                            else "; it takes none")))
    result = {}
    for name, setting in schema.items():
        if name not in values:
            if setting.required:
                raise ConfigError(f"{where}: {name} is missing")
            result[name] = setting.default
            continue
        try:
            result[name] = setting.rule(values[name])
        except _Invalid as err:
            raise ConfigError(f"{where}: {name} {err}, not {values[name]!r}") from None
    return result


@dataclass(frozen=True)
class Assignment:
    """One assignment: its notebook, its own settings (validated by its hooks' schema) and the points of each
    check, by grade_id."""

    name: str
    notebook: str
    checks: dict[str, dict[str, float]]
    manual: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)

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
    assignments: dict[str, Assignment]

    def assignment(self, name: str) -> Assignment:
        """The assignment called `name`, or a ConfigError listing the known ones."""
        try:
            return self.assignments[name]
        except KeyError:
            known = ", ".join(sorted(self.assignments))
            raise ConfigError(f"unknown assignment {name!r}{_likely(name, self.assignments, quoted=True)}; {self.path} "
                              f"defines: {known}") from None

    def with_settings(self, name: str, **changes: Any) -> CourseConfig:
        """This configuration with some of assignment `name`'s settings changed (values as validated)."""
        spec = self.assignment(name)
        changed = replace(spec, settings={**spec.settings, **changes})
        return replace(self, assignments={**self.assignments, name: changed})


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


def _settings_of(module: ModuleType) -> dict[str, Any]:
    """The module's settings: its upper-case names (imports and helpers such as `Path` are not settings)."""
    return {name: value for name, value in vars(module).items()
            if name.isupper() and not name.startswith("_")}


def _points(where: str, points: Any) -> dict[str, float]:
    if not isinstance(points, dict) or not points:
        raise ConfigError(f"{where} must be a non-empty dict of name -> points")
    for name, pts in points.items():
        if not isinstance(name, str) or isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts <= 0:
            raise ConfigError(f"{where}[{name!r}] must be positive points, not {pts!r}")
    return dict(points)


def defined_checks(assignment: str) -> set[str] | None:
    """The checks assignment `assignment`'s hidden suite defines (its test_* functions, without the prefix),
    read without importing it; None where it has no folder with a checks.py."""
    from .assignments import checks_file

    path = checks_file(assignment)
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text(), str(path))
    return {node.name.removeprefix("test_") for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def _assignments(path: Path, entries: dict) -> dict[str, Assignment]:
    result = {}
    for name, spec in entries.items():
        where = f"{path}: ASSIGNMENTS[{name!r}]"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be a dict")
        values = validate(spec, ASSIGNMENT_KEYS, where)
        if not values["notebook"].endswith(".ipynb"):
            raise ConfigError(f"{where}: notebook must name an .ipynb file, not {values['notebook']!r}")
        checks = values["checks"]
        if not checks:
            raise ConfigError(f"{where}: checks must map grade ids to check points")
        groups = {gid: _points(f"{where}['checks'][{gid!r}]", group) for gid, group in checks.items()}
        names = [n for group in groups.values() for n in group]
        if len(names) != len(set(names)):
            raise ConfigError(f"{where}: checks names a check twice")
        defined = defined_checks(name)
        if defined is None:
            raise ConfigError(f"{where}: there is no assignment {name} (no autograder/assignments/{name}/trusted/"
                              f"checks.py){_likely(name, _known_folders())}")
        for gid, group in groups.items():
            for check in group:
                if check not in defined:
                    likely = _likely(check, defined, quoted=True)
                    raise ConfigError(f"{where}['checks'][{gid!r}]: {check!r} is not a check of {name}"
                                      + (likely or f"; its checks.py defines {', '.join(sorted(defined))}"))
        manual = _points(f"{where}['manual']", values["manual"]) if values["manual"] else {}
        settings = validate(values["settings"] or {}, hooks(name).settings, f"{where}['settings']")
        result[name] = Assignment(name, values["notebook"], groups, manual, settings)
    return result


def hooks(name: str):
    """The hooks of assignment `name` (autograder.hooks.of; imported here when first needed)."""
    from .hooks import of

    return of(name)


def _known_folders() -> list[str]:
    from .assignments import names

    return names()


def load_config(path: str | os.PathLike | None = None) -> CourseConfig:
    """Read and validate course_config.py (default: $TENSORGRADE_CONFIG, else the project's)."""
    path = Path(path or os.environ.get("TENSORGRADE_CONFIG") or DEFAULT_CONFIG).resolve()
    if not path.is_file():
        raise ConfigError(f"course configuration not found: {path}")
    s = validate(_settings_of(_module(path)), SETTINGS, str(path))
    return CourseConfig(
        path=path,
        course_id=s["COURSE_ID"],
        grading_seed=s["GRADING_SEED"],
        grading_secret_file=(grading_secret() if s["GRADING_SECRET_FILE"] is None
                             else (path.parent / s["GRADING_SECRET_FILE"]).resolve()),
        cell_time_limit_s=s["CELL_TIME_LIMIT_S"],
        check_time_limit_s=s["CHECK_TIME_LIMIT_S"],
        submission_time_limit_s=s["SUBMISSION_TIME_LIMIT_S"],
        memory_limit_mb=s["MEMORY_LIMIT_MB"],
        tmp_limit_mb=s["TMP_LIMIT_MB"],
        output_limit_mb=s["OUTPUT_LIMIT_MB"],
        max_processes=s["MAX_PROCESSES"],
        parallel_submissions=s["PARALLEL_SUBMISSIONS"],
        dask_scheduler=s["DASK_SCHEDULER"],
        allow_weak_isolation=s["ALLOW_WEAK_ISOLATION"],
        assignments=_assignments(path, s["ASSIGNMENTS"]),
    )
