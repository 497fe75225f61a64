"""A batch's tasks: one submission is one Dask task, on the engine's workers (autograder.engine).

    client (trusted; the one writer of gradebook.db;           worker process (one thread, its own zygote)
            never imports the grader or torch)
    read each notebook as nbgrader will record     --task-->   check the data's fingerprint, then
    it, build its program once, compute its seed               grade_program: sandbox, probes, hidden suite
    (the course secret never leaves the client)
    log each record as its task ends               <--dict---  the GradeReport as plain data, with peak memory

What travels to a worker: the submission's program (its code cells), the assignment, the student, its seed, the
course settings (the client's CourseConfig, a frozen dataclass of plain values) and a fingerprint of the
assignment's data (its data_fingerprint hook). A worker reads that data itself, once per process (from the
configured folder, or built in its cache), and refuses to grade when its fingerprint differs from the client's:
a score never depends on which worker computed it. What comes back is GradeReport.to_dict(): plain data made by the
trusted judge on the worker, never an object of the student's.

Faults are Dask's: a worker that dies while grading (killed, out of memory) has its task run again on
another worker; after MAX_TRIES deaths the scheduler gives up on it (KilledWorker) and the submission is
reported as ungradable, with a message, while the batch goes on. Any other error of a task (a grader bug,
other data, a worker whose sandbox is weaker than the course allows) stops the batch: what was recorded
stays, and running it again grades the rest.
"""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator

from distributed import Client, KilledWorker, as_completed, get_worker

from .config import CourseConfig
from .engine import MAX_TRIES
from .hooks import of as hooks_of
from .isolation_policy import refusal
from .results import GradeReport, Status
from .seeds import seed_of
from .submission import Program, SubmissionError, as_recorded, build_program, read_notebook, recorded_key, release_of
from .ungraded import unreadable_reason, unreadable_report, zero_report

UNGRADABLE = ("Your notebook could not be graded: the grading process stopped every time it graded it "
              f"({MAX_TRIES} tries, on different workers), for example because it ran out of memory. "
              "Your instructor has been told and will look at it.")

# The phase of a report (GradeReport.phases) that read and fingerprinted the data: a worker's first task only.
DATA_PHASE = "data (once per worker: read, fingerprint)"

Job = tuple[Path, str, str]  # (notebook, assignment, student)


class DataMismatch(RuntimeError):
    """A worker's copy of the dataset differs from the client's: it must not grade."""


class UnsafeWorker(RuntimeError):
    """A worker whose sandbox would be weaker than the course allows: it must not grade."""


# The assignments whose data this process has read and fingerprinted (the hooks cache both per process).
_FINGERPRINTED: set[str] = set()


def data_fingerprint(config: CourseConfig, assignment: str) -> str | None:
    """A fingerprint of `assignment`'s data (its data_fingerprint hook), or None where it has none."""
    return hooks_of(assignment).data_fingerprint(config)


def make_task(path: Path, assignment: str, student: str, config: CourseConfig) -> dict | GradeReport:
    """What travels to a worker to grade one submission (plain data): the program, built here once from the
    notebook as nbgrader will record it, and its seed. For a file that is not a readable notebook, its record
    at once (nothing to run)."""
    try:
        nb = read_notebook(path)
    except SubmissionError as err:
        report = unreadable_report(assignment, config, unreadable_reason(err))
        report.student = student
        return report
    nb = as_recorded(nb, release_of(assignment, config))
    program = build_program(nb, release_of(assignment, config))
    return {"assignment": assignment, "student": student, "program": asdict(program),
            "seed": seed_of(program, assignment, config, student), "program_key": recorded_key(nb)}


def grade_task(task: dict, config: CourseConfig, fingerprint: str | None) -> dict:
    """On a worker: grade one submission (make_task's dict); its record as plain data."""
    from .grading import grade_program  # the grader, and with it torch: imported by the workers, never the client
    from .sandbox.launcher import warm_up

    assignment = task["assignment"]
    read_data = assignment not in _FINGERPRINTED  # this worker's first task of it: it reads the data, hashes it
    started = time.monotonic()
    ours = data_fingerprint(config, assignment)
    _FINGERPRINTED.add(assignment)
    data_seconds = time.monotonic() - started
    if fingerprint is not None and ours != fingerprint:
        raise DataMismatch(
            f"the worker at {os.uname().nodename} reads other data for {assignment} (fingerprint "
            f"{ours}, its settings {config.assignment(assignment).settings}) than "
            f"the client (fingerprint {fingerprint}): give every worker the same files (docs/scaling.md)")
    try:
        worker = get_worker()
    except ValueError:  # called outside a Dask worker: no cluster here for a child to reach
        worker = None
    why = refusal(config.allow_weak_isolation, cluster_address=worker and worker.scheduler.address)
    if why:
        raise UnsafeWorker(f"the worker at {os.uname().nodename} ({worker and worker.address}): {why}")
    _reset_peak_memory()
    warm_up()
    report = grade_program(Program(**task["program"]), assignment, config, task["seed"])
    report.student, report.program_key = task["student"], task["program_key"]
    if read_data:
        report.phases = {DATA_PHASE: round(data_seconds, 3), **report.phases}
    return report.to_dict()


def _reset_peak_memory() -> None:
    """Start this worker's peak resident memory (VmHWM) afresh, so the report's peak is this task's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def ungradable(assignment: str, config: CourseConfig) -> GradeReport:
    """The report of a submission whose grading killed MAX_TRIES workers: every check 0, with the reason."""
    return zero_report(assignment, config, UNGRADABLE, Status.GRADER_ERROR, notes=[UNGRADABLE])


def grade_stream(client: Client, jobs: Iterable[Job], config: CourseConfig) -> Iterator[tuple[Job, GradeReport]]:
    """Grade (notebook, assignment, student) jobs on the client's cluster, one task each; yield every job with
    its record as soon as it is done (files that are not notebooks first: nothing runs for them). The client
    never grades: it reads, builds and seeds each program, and every grade comes from a worker."""
    futures, unreadable, fingerprints = {}, [], {}
    for job in jobs:
        path, assignment, student = job
        task = make_task(path, assignment, student, config)
        if isinstance(task, GradeReport):
            unreadable.append((job, task))
            continue
        if assignment not in fingerprints:
            fingerprints[assignment] = data_fingerprint(config, assignment)
        key = f"grade-{assignment}-{student}-{uuid.uuid4().hex[:8]}"
        futures[client.submit(grade_task, task, config, fingerprints[assignment], key=key, pure=False)] = (
            job, task["program_key"])
    try:
        yield from unreadable
        for future in as_completed(list(futures)):
            job, program_key = futures.pop(future)
            try:
                report = GradeReport.from_dict(future.result())
            except KilledWorker:
                report = ungradable(job[1], config)
                report.student, report.program_key = job[2], program_key
            future.release()
            yield job, report
    finally:
        if futures:
            client.cancel(list(futures))
