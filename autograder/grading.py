"""Grade one notebook: validate, build the program, run it sandboxed, judge the evidence.

    read_notebook -> build_program -> run_sandboxed (child: cells, probes) -> load_evidence
    -> run_suite (hidden pytest, trusted) -> GradeReport

grade_notebook reads and builds; grade_program (what a Dask worker runs) grades a program built elsewhere.

Nothing in this process runs student code or unpickles what it produced.
"""
from __future__ import annotations

import dataclasses
import logging
import resource
import shutil
import tempfile
import threading
import time
import traceback
from pathlib import Path

import torch
from safetensors.torch import save_file

from . import assignments, nbgrader_cells
from .calibration import check_calibrated
from .config import CourseConfig
from .diagnosis import diagnose_verdicts
from .evidence import load_evidence
from .hooks import of as hooks_of
from .process_memory import resident_mb
from .results import CheckResult, GradeReport, Status
from .sandbox.arithmetic import grading_arithmetic
from .sandbox.launcher import run_sandboxed, warm_up
from .sandbox.limits import Limits, isolation
from .sandbox.phases import Phase
from .seeds import derived_seed, seed_of
from .submission import Program, SubmissionError, build_program, read_notebook, release_of
from .suite import INTERNAL_ERROR, Verdict, run_suite
from .ungraded import unreadable_reason, unreadable_report

# pytest keeps process-wide state: one suite runs at a time in a process. The batch engine
# (autograder.cluster) runs one task per worker process, so judges there run in parallel and this
# lock is never contended; it serializes only the threads of autograder.batch.grade_many.
_JUDGE_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


def grading_inputs(assignment: str, config: CourseConfig, seed: int) -> dict[str, torch.Tensor]:
    """The grader's inputs for one submission of `assignment`, from the submission's seed, and its data (hooks)."""
    return {**assignments.module(assignment, "inputs").make_inputs(config, seed),
            **hooks_of(assignment).data_inputs(config)}


def data_folders(config: CourseConfig) -> list[str]:
    """Host folders of every configured assignment's data (its host_folders hook): the sandbox masks them all for
    every child, whichever assignment it grades (a part 1 child must not read part 2's secret test set either),
    and the Gradescope zip closes them while it grades."""
    return list(dict.fromkeys(f for name in config.assignments for f in hooks_of(name).host_folders(config)))


SANDBOX_PHASE = "sandbox: "  # how a report's phases name each cell and probe the child ran: "sandbox: validate"


def grade_notebook(notebook: Path, assignment: str, config: CourseConfig,
                   course_root: Path | None = None, *, student: str = "", seed: int | None = None) -> GradeReport:
    """Grade one submitted notebook file; never raises for anything the student did.

    The grader's inputs derive from the course secret and the submission (assignment, `student`,
    its code): the same notebook graded again gets the same inputs and the same score. `seed`, when
    given, is that seed computed elsewhere (seed_of).
    """
    started = time.monotonic()
    check_calibrated(config, assignment)
    try:
        submitted = read_notebook(notebook)
    except SubmissionError as err:
        return unreadable_report(assignment, config, unreadable_reason(err), time.monotonic() - started)
    read = time.monotonic() - started
    warm_up()
    program = build_program(submitted, release_of(assignment, config))
    if seed is None:
        seed = seed_of(program, assignment, config, student)
    return grade_program(program, assignment, config, seed, read_seconds=read)


def grade_program(program: Program, assignment: str, config: CourseConfig, seed: int, *,
                  read_seconds: float = 0.0) -> GradeReport:
    """Grade a submission's program (built once, by whoever read the notebook): sandbox, evidence, hidden suite."""
    started = time.monotonic() - read_seconds
    spec = config.assignment(assignment)
    release = release_of(assignment, config)
    inputs = grading_inputs(assignment, config, seed)
    probes = list(spec.checks)
    labels = {Phase.cell(index): label for index, label in program.labels.items()}
    labels.update({Phase.probe(gid): probe_label(release, gid) for gid in probes})
    phases = {"read": read_seconds}
    problems: list[str] = []  # for the instructor (the submission's log), never for the student
    workdir = Path(tempfile.mkdtemp(prefix="tensorgrade-"))
    try:
        secret = hooks_of(assignment).secret_inputs
        save_file({k: v.contiguous() for k, v in inputs.items() if k not in secret},
                  workdir / "inputs.safetensors")
        seeds = {"cells": derived_seed(seed, "cells"), **{p: derived_seed(seed, p) for p in probes}}
        child_spec = {"assignment": assignment, "cells": program.cells, "probes": probes, "seeds": seeds,
                      "inputs": str(workdir / "inputs.safetensors")}
        phases["prepare"] = time.monotonic() - started - read_seconds
        mark = time.monotonic()
        run = run_sandboxed(child_spec, workdir, Limits.from_config(config), data_folders(config))
        phases["sandbox"] = time.monotonic() - mark
        try:
            evidence = load_evidence(workdir / "evidence", run.lost, labels, program.cell_names,
                                     assignments.declared_keys(assignment))
            with _JUDGE_LOCK, grading_arithmetic():  # the references computed as the child computed
                mark = time.monotonic()
                verdicts = run_suite(assignment, evidence, inputs, config)
                phases["judge"] = time.monotonic() - mark
                diagnoses = diagnose_verdicts(assignment, verdicts, evidence, inputs, spec.grade_id_of)
        except Exception:  # noqa: BLE001 - whatever the evidence did to the judge, this submission gets no points
            _log.exception("judging %s (%s) failed", assignment, spec.notebook)
            problems.append(f"judging failed, every check scored 0:\n{traceback.format_exc()}")
            verdicts, diagnoses = {}, {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    checks = []
    for name, pts in spec.check_points.items():
        verdict = verdicts.get(name)
        if verdict is None:
            verdict = Verdict(Status.GRADER_ERROR, INTERNAL_ERROR)
            problems.append(f"{name}: the hidden suite reported no verdict for this check")
        elif verdict.internal_error:
            problems.append(f"{name}: internal error in the grader\n{verdict.internal_error}")
        found = diagnoses.get(name)
        message = f"{verdict.message}\n{found.text}" if found else verdict.message
        checks.append(CheckResult(name, spec.grade_id_of[name], pts if verdict.passed else 0.0, pts, message,
                                  found.mistake if found else "", verdict.status, verdict.needs,
                                  verdict.measured))
    checks = with_notes(checks, hooks_of(assignment).check_notes(config))
    if run.sandbox_failed:
        problems.append("the sandbox failed to start a child; its log tail is in this submission's log")
    notes = list(program.notes)
    cell_notes = {}
    for phase, why in run.lost.items():
        if phase.is_cell:
            notes.append(f"{labels.get(phase, phase.wire)} {why}")
            if phase.is_student_cell:
                cell_notes[phase.key] = notes[-1]
    phases.update({f"{SANDBOX_PHASE}{labels.get(phase, phase.wire)}": secs for phase, secs in run.seconds.items()})
    return GradeReport(assignment, checks, dict(spec.manual), notes, time.monotonic() - started, run.isolation,
                       weak_isolation=bool(run.isolation) and not isolation().full,
                       cell_notes=cell_notes, peak_child_mb=run.peak_memory_mb, peak_worker_mb=_peak_rss_mb(),
                       grader_problems=problems, phases=phases, log_tail=run.log_tail)


def _peak_rss_mb() -> float:
    """This process's peak resident memory, in MiB: VmHWM (since it started, or since the Dask engine reset it
    for the task); getrusage's figure where /proc lacks it, which counts the parent's memory before exec too."""
    peak = resident_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe_label(release, grade_id: str) -> str:
    """What the graded cell `grade_id` of the trusted release grades ("validate"), for messages."""
    cell = nbgrader_cells.find(release.cells, grade_id)
    return (nbgrader_cells.label(cell) if cell is not None else None) or grade_id


def with_notes(checks: list[CheckResult], notes: dict[str, str]) -> list[CheckResult]:
    """The checks, the output of each check of a grade id in `notes` ending with that note (the assignment's
    check_notes hook), passed or not."""
    return [dataclasses.replace(c, output="\n".join(filter(None, [c.output, notes[c.grade_id]])))
            if c.grade_id in notes else c for c in checks]
