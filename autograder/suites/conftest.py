"""Fixtures of the hidden suites: the evidence, the grader's inputs and the course config."""
from __future__ import annotations

import sys

import pytest

PLUGIN_NAME = "tensorgrade-judge"


def _plugin(request: pytest.FixtureRequest):
    return request.config.pluginmanager.get_plugin(PLUGIN_NAME)


@pytest.fixture
def evidence(request: pytest.FixtureRequest):
    """The sandbox's evidence for this submission (autograder.judging.Evidence)."""
    return _plugin(request).evidence


@pytest.fixture
def inputs(request: pytest.FixtureRequest):
    """The grader-chosen inputs the probes used, as tensors."""
    return _plugin(request).inputs


@pytest.fixture
def config(request: pytest.FixtureRequest):
    """The validated course configuration."""
    return _plugin(request).config


@pytest.fixture
def quiet():
    """Run reference code without its progress prints reaching the grader's output."""
    return lambda fn, *args: _quietly(fn, *args)


def _quietly(fn, *args):
    # `print` is shadowed in the reference's own module only, not by swapping sys.stdout: other
    # threads keep their output (suites run one at a time, under grading's judge lock).
    module = sys.modules[fn.__module__]
    module.print = lambda *args, **kwargs: None
    try:
        return fn(*args)
    finally:
        del module.print
