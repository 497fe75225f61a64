"""Run an assignment's hidden checks (its checks.py, a pytest suite) on a submission's evidence, in the
trusted process, and turn pytest's outcomes into verdicts.

The checks take their fixtures from the plugin here: `evidence`, `inputs`, `config` and `quiet`; a number a
check measured for the instructor (the accuracy reached) it gives pytest's `record_property`, and the record
keeps it (CheckResult.measured).
"""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from .assignments import PYTEST_INI, checks_file
from .config import CourseConfig
from .evidence import Evidence
from .expect import CheckFailed, CodeAbsent
from .results import Status, not_credited

# What pytest reads from the environment in every session: options (an instructor's PYTEST_ADDOPTS="-x" would leave
# every check after the first failure without a verdict) and plugins to load.
ENVIRONMENT_OPTIONS = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")
INTERNAL_ERROR = "the grader could not finish this check (an error in the grader, reported to the instructor)"


@dataclass(frozen=True)
class Verdict:
    """A check's outcome: its status, the message for the student when it did not pass, and for a check
    not credited, the check it needs."""

    status: Status
    message: str = ""
    internal_error: str = ""  # the traceback of a GRADER_ERROR, for the instructor
    needs: str = ""
    measured: dict[str, float] = field(default_factory=dict)  # what the check measured (record_property)

    @property
    def passed(self) -> bool:
        """Whether the check earns its points."""
        return self.status is Status.PASSED


def gated(verdicts: dict[str, Verdict], requires: dict[str, tuple[str, ...]]) -> dict[str, Verdict]:
    """Verdicts once every check marked `requires(...)` is NOT_CREDITED where a check it needs did not pass.

    Structural checks (types, shapes, attributes, modes) pass on evidence that any code, or a forger,
    can produce; they earn their points only together with a check of a value that only correct code
    computes. A check that failed on its own keeps its own, more specific verdict; where the needed check
    found no code at all (ABSENT), so does the dependent one.
    """
    result = dict(verdicts)
    for name, needed in requires.items():
        own = verdicts.get(name)
        missing = [n for n in needed if not (verdicts.get(n) and verdicts[n].passed)]
        if own is not None and own.passed and missing:
            first = verdicts.get(missing[0])
            if first is not None and first.status is Status.ABSENT:
                result[name] = Verdict(Status.ABSENT, first.message, measured=own.measured)  # no code to check
            else:
                result[name] = Verdict(Status.NOT_CREDITED, not_credited(missing[0]), needs=missing[0],
                                       measured=own.measured)
    return result


class _Judge:
    """pytest plugin: hands the evidence to the checks as fixtures and collects every verdict."""

    def __init__(self, evidence: Evidence, inputs: dict, config: CourseConfig) -> None:
        self._evidence, self._inputs, self._config = evidence, inputs, config
        self.verdicts: dict[str, Verdict] = {}
        self.requires: dict[str, tuple[str, ...]] = {}

    @pytest.fixture
    def evidence(self) -> Evidence:
        """The sandbox's evidence for this submission."""
        return self._evidence

    @pytest.fixture
    def inputs(self) -> dict:
        """The grader-chosen inputs the probes used, as tensors."""
        return self._inputs

    @pytest.fixture
    def config(self) -> CourseConfig:
        """The validated course configuration."""
        return self._config

    @pytest.fixture
    def quiet(self) -> Callable[..., Any]:
        """Run reference code without its progress prints reaching the grader's output."""
        return _quietly

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        name = item.name.removeprefix("test_")
        needed = tuple(n for marker in item.iter_markers("requires") for n in marker.args)
        if needed:
            self.requires[name] = needed
        if report.when == "call" or (report.when == "setup" and report.failed):
            measured = {k: float(v) for k, v in report.user_properties}
            if call.excinfo is None:
                self.verdicts[name] = Verdict(Status.PASSED, measured=measured)
            elif isinstance(call.excinfo.value, CheckFailed):
                status = Status.ABSENT if isinstance(call.excinfo.value, CodeAbsent) else Status.FAILED
                self.verdicts[name] = Verdict(status, str(call.excinfo.value), measured=measured)
            else:
                detail = "".join(traceback.format_exception(call.excinfo.value))
                self.verdicts[name] = Verdict(Status.GRADER_ERROR, INTERNAL_ERROR, detail)


def _quietly(fn: Callable[..., Any], *args: Any) -> Any:
    # `print` is shadowed in the reference's own module only, not by swapping sys.stdout: other
    # threads keep their output (suites run one at a time, under grading's judge lock).
    module = sys.modules[fn.__module__]
    module.print = lambda *args, **kwargs: None
    try:
        return fn(*args)
    finally:
        del module.print


def run_suite(assignment: str, evidence: Evidence, inputs: dict, config: CourseConfig) -> dict[str, Verdict]:
    """Verdicts of every check in the assignment's hidden checks, by check name."""
    judge = _Judge(evidence, inputs, config)
    # No terminal reporter (nothing to print) and no output capture: pytest's capture swaps the
    # process's file descriptors 1 and 2, which would swallow what other threads write meanwhile
    # (the batch's progress bar). Reference code's prints are silenced by the `quiet` fixture.
    # Nor the plugins that report leaked exceptions and log records: the first runs gc.collect twice per
    # session (about half the judge's time) to find exceptions no check reads. Nor any plugin of the environment
    # (pytest11 entry points): only the kit's checks decide a verdict, and looking them up cost each session 10 ms.
    args = [str(checks_file(assignment)), "--disable-plugin-autoload", "-p", "no:terminal", "--capture=no",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging",
            "-c", str(PYTEST_INI), "--rootdir", str(PYTEST_INI.parent), "--import-mode=importlib",
            "-W", "ignore::UserWarning"]
    with _without_environment_options():
        pytest.main(args, plugins=[judge])
    return gated(judge.verdicts, judge.requires)


@contextmanager
def _without_environment_options() -> Iterator[None]:
    """This process's environment without ENVIRONMENT_OPTIONS while inside (one suite runs at a time in a process)."""
    saved = {name: os.environ.pop(name) for name in ENVIRONMENT_OPTIONS if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
