"""The batch engine: one submission is one Dask task, on this machine's cores or on a Dask cluster.

    client (trusted; the one writer of gradebook.db)           worker process (one thread, its own zygote)
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

import logging
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator

import dask
import torch
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, as_completed, get_worker

from .config import CourseConfig
from .grading import grade_program, release_of, seed_of, unreadable_reason, unreadable_report, zero_report
from .hooks import of as hooks_of
from .isolation_policy import refusal
from .results import GradeReport, Status
from .sandbox.launcher import warm_up
from .sandbox.limits import isolation
from .submission import Program, SubmissionError, as_recorded, build_program, read_notebook, recorded_key

_log = logging.getLogger(__name__)
# Worker deaths a task may cause before it is given up as ungradable (Dask's allowed-failures + 1). On a
# cluster of your own, the scheduler's settings count: DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2.
MAX_TRIES = 3
# A worker holds only the task it runs (Dask's worker-saturation 1.0: nothing queued behind a slow
# submission while another worker is free). On a cluster: DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0.
SCHEDULER_SETTINGS = {"distributed.scheduler.allowed-failures": MAX_TRIES - 1,
                      "distributed.scheduler.worker-saturation": 1.0}
CONNECT_TIMEOUT_S = 60
# A worker process imports torch and the kit before it takes tasks: a minute on a loaded machine.
WORKER_START_TIMEOUT_S = 180
# Batches of at most this many submissions are graded one after another in the client's process: a local
# cluster's worker processes take longer to start (each imports torch) than grading a few notebooks
# (measured in docs/scaling.md).
IN_PROCESS_UP_TO = 3
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


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


class WarmUp(WorkerPlugin):
    """On every worker as it starts (a replacement too): one torch thread, and its sandbox zygote started."""

    name = "tensorgrade-warm-up"

    def setup(self, worker) -> None:
        torch.set_num_threads(1)
        warm_up()


@contextmanager
def engine(config: CourseConfig, workers: int | None = None, scheduler: str | None = None,
           submissions: int | None = None) -> Iterator[Client]:
    """A Dask client: of the cluster at `scheduler` (or DASK_SCHEDULER); else, for at most IN_PROCESS_UP_TO
    `submissions`, of one worker thread in this process (no worker processes to start); else of a local
    cluster of `workers` (else PARALLEL_SUBMISSIONS, else one per core) worker processes with one thread each,
    which start in the background: call `workers_started` before waiting on a task."""
    address = scheduler or config.dask_scheduler
    with dask.config.set(SCHEDULER_SETTINGS):
        if address:
            with Client(address, timeout=CONNECT_TIMEOUT_S) as client:
                client.register_plugin(WarmUp())
                yield client
            return
        if submissions is not None and submissions <= IN_PROCESS_UP_TO:
            # Starting worker processes (each imports torch and starts its zygote) costs more than grading a
            # few notebooks one after another here. The scheduler is in memory (inproc://): nothing to reach.
            # Its HTTP endpoints on a free local port: none fixed to collide with another cluster's (8787).
            with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0",
                              silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
                client.register_plugin(WarmUp())
                yield client
            return
        n = workers or config.parallel_submissions or cores()
        if n > 1 and not isolation().mode:
            _log.warning("tensorgrade: the sandbox has no namespaces here (weak isolation): the children of parallel "
                         "workers would share one uid and could signal or read each other, so one submission is "
                         "graded at a time")
            n = 1
        # TLS with credentials made for this cluster alone (Security.temporary, held in memory): a Dask
        # scheduler runs whatever task it is sent, and a sandbox without its own network namespace (weak
        # isolation) could otherwise reach 127.0.0.1 and have a worker, outside the sandbox, run its code.
        # Its HTTP endpoints on a free loopback port, as for the small batch: Dask's default 8787 is often taken
        # (another course's batch, a notebook's cluster) and then prints a warning to the instructor.
        with LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                          security=True, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            client.register_plugin(WarmUp())
            # The worker processes start in the background (each imports torch and starts its zygote) while the
            # command goes on reading the data and the notebooks: `workers_started` waits for the first.
            cluster.scale(n)
            yield client


def in_process(client: Client) -> bool:
    """Whether `client` is engine's small-batch one: a single worker thread in this process."""
    return client.scheduler.address.startswith("inproc://")


def workers_started(client: Client) -> int:
    """How many workers `client` grades on, once at least one of them has started: a local cluster's workers
    start in the background (engine). TimeoutError where none starts within WORKER_START_TIMEOUT_S."""
    client.wait_for_workers(1, timeout=WORKER_START_TIMEOUT_S)
    if client.cluster is not None:
        return len(client.cluster.worker_spec)
    return len(client.scheduler_info()["workers"])


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
