"""Grade one notebook: validate, build the program, run it sandboxed, judge the evidence.

    read_notebook -> build_program -> run_sandboxed (child: cells, probes) -> load_evidence
    -> run_suite (hidden pytest, trusted) -> GradeReport

Nothing in this process runs student code or unpickles what it produced.
"""
from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import torch
from safetensors.torch import save_file

from . import paths
from .config import PROJECT_ROOT, CourseConfig
from .judge import INTERNAL_ERROR, run_suite
from .judging import load_evidence
from .results import CheckResult, GradeReport
from .sandbox.launcher import run_sandboxed, warm_up
from .sandbox.limits import Limits
from .submission import SubmissionError, build_program, read_notebook

_INPUTS_CACHE: dict[tuple, dict[str, torch.Tensor]] = {}
# pytest keeps process-wide state: one suite runs at a time, while sandboxes of other
# submissions keep running in parallel (autograder.batch).
_JUDGE_LOCK = threading.Lock()
_INPUTS_LOCK = threading.Lock()


def grading_inputs(assignment: str, config: CourseConfig) -> dict[str, torch.Tensor]:
    """The grader's inputs for `assignment` (made once per process and seed)."""
    key = (assignment, config.grading_seed, config.dataset, config.data_source, str(config.data_root))
    with _INPUTS_LOCK:
        if key not in _INPUTS_CACHE:
            module = importlib.import_module(f"autograder.inputs.{assignment}")
            _INPUTS_CACHE[key] = module.make_inputs(config)
        return _INPUTS_CACHE[key]


def hidden_paths(notebook: Path, course_root: Path | None) -> list[str]:
    """Folders and files the child must not read: suites, solutions, data, gradebooks, home."""
    needed = [PROJECT_ROOT, Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent]
    needed = [p.resolve() for p in needed]

    def safe(path: Path) -> bool:
        path = path.resolve()
        return not any(n == path or path in n.parents for n in needed)

    candidates = [paths.SUITES_DIR, paths.SOLUTIONS_DIR, paths.SOURCE_DIR, paths.TESTS_DIR, paths.cache_dir(),
                  PROJECT_ROOT.parent / "shared", Path(notebook).resolve().parent]
    for root in {PROJECT_ROOT, *( [course_root] if course_root else [])}:
        candidates += [root / "submitted", root / "autograded", root / "feedback", root / "gradebook.db"]
    home = Path.home()
    if home.is_dir():
        candidates += list(home.iterdir()) if not safe(home) else [home]
    return sorted({str(p.resolve()) for p in candidates if p.exists() and safe(p)})


def _failed_report(assignment: str, config: CourseConfig, message: str, started: float) -> GradeReport:
    spec = config.assignment(assignment)
    checks = [CheckResult(name, spec.grade_id_of[name], 0.0, pts, message)
              for name, pts in spec.check_points.items()]
    return GradeReport(assignment, checks, dict(spec.manual), [message], time.monotonic() - started)


def grade_notebook(notebook: Path, assignment: str, config: CourseConfig,
                   course_root: Path | None = None) -> GradeReport:
    """Grade one submitted notebook file; never raises for anything the student did."""
    started = time.monotonic()
    spec = config.assignment(assignment)
    try:
        student = read_notebook(notebook)
    except SubmissionError as err:
        return _failed_report(assignment, config, f"Your notebook could not be graded: {err}.", started)
    warm_up()
    release = nbformat.read(paths.release_notebook(assignment, spec.notebook), as_version=4)
    program = build_program(student, release)
    inputs = grading_inputs(assignment, config)
    probes = list(spec.checks)
    labels = dict(program.labels)
    labels.update({f"probe:{gid}": _probe_label(release, gid) for gid in probes})
    workdir = Path(tempfile.mkdtemp(prefix="tensorgrade-"))
    try:
        save_file({k: v.contiguous() for k, v in inputs.items() if k in _child_keys(inputs)},
                  workdir / "inputs.safetensors")
        child_spec = {"assignment": assignment, "cells": program.cells, "probes": probes,
                      "seed": config.grading_seed, "inputs": str(workdir / "inputs.safetensors")}
        run = run_sandboxed(child_spec, workdir, Limits.from_config(config), labels,
                            hidden_paths(notebook, course_root))
        evidence = load_evidence(workdir / "evidence", run.lost, labels, program.cell_defines)
        with _JUDGE_LOCK:
            verdicts = run_suite(assignment, evidence, inputs, config)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    checks = []
    for name, pts in spec.check_points.items():
        verdict = verdicts.get(name)
        if verdict is None:
            checks.append(CheckResult(name, spec.grade_id_of[name], 0.0, pts, INTERNAL_ERROR))
        else:
            checks.append(CheckResult(name, spec.grade_id_of[name], pts if verdict.passed else 0.0, pts,
                                      verdict.message))
    notes = list(program.notes)
    notes += [f"{labels.get(phase, phase)} {why}" for phase, why in run.lost.items() if phase.startswith("cell:")]
    return GradeReport(assignment, checks, dict(spec.manual), notes, time.monotonic() - started, run.isolation)


def _probe_label(release, grade_id: str) -> str:
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == grade_id:
            first = cell.source.splitlines()[0] if cell.source else grade_id
            return first.split("Auto-graded when you submit: ")[-1].split(",")[0].strip('"')
    return grade_id


def _child_keys(inputs: dict) -> set[str]:
    """Inputs the child may see: everything but the test labels of the accuracy check."""
    return {k for k in inputs if not k.startswith("secret_")}
