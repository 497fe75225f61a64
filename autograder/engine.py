"""Where a batch runs: a Dask client of this machine's worker processes, of one thread in this process for a small
batch, or of a Dask cluster of your own (engine).

This module imports neither torch nor the grader, and neither does the rest of the command (the client): it starts
the engine first, so that its worker processes import them (and start their zygotes) while the command imports and
checks the rest (autograder.cluster sends the tasks). A batch of at most IN_PROCESS_UP_TO grades in this process,
which then imports them.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterator

import dask
from distributed import Client, LocalCluster, WorkerPlugin

from .config import CourseConfig
from .sandbox.limits import isolation

_log = logging.getLogger(__name__)
# Worker deaths a task may cause before it is given up as ungradable (Dask's allowed-failures + 1). On a
# cluster of your own, the scheduler's settings count: DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2.
MAX_TRIES = 3
# A worker holds only the task it runs (Dask's worker-saturation 1.0: nothing queued behind a slow
# submission while another worker is free). On a cluster: DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0.
SCHEDULER_SETTINGS = {"distributed.scheduler.allowed-failures": MAX_TRIES - 1,
                      "distributed.scheduler.worker-saturation": 1.0}
# The cluster's own bookkeeping, less often than Dask's defaults: no stack sampling of the workers (the profiler,
# every 10 ms, for a dashboard no one opens), the event loops' health tick every 500 ms (20 ms), the system monitor
# every 2 s (500 ms) and the workers' memory every second (100 ms; the sandbox's cgroup limits each child's memory).
# Idle, a local cluster of 2 workers used a tenth of a core for these, on the cores the children train on; a
# third of that with them (docs/scaling.md). On a cluster of your own: the same keys as DASK_ environment variables.
BOOKKEEPING_SETTINGS = {"distributed.worker.profile.enabled": False,
                        "distributed.admin.tick.interval": "500ms",
                        "distributed.admin.system-monitor.interval": "2s",
                        "distributed.worker.memory.monitor-interval": "1s"}
CONNECT_TIMEOUT_S = 60
# A worker process imports torch and the kit before it takes tasks: a minute on a loaded machine.
WORKER_START_TIMEOUT_S = 180
# Batches of at most this many submissions are graded one after another in the client's process: a local
# cluster's worker processes take longer to start (each imports torch) than grading a few notebooks
# (measured in docs/scaling.md).
IN_PROCESS_UP_TO = 3


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


class WarmUp(WorkerPlugin):
    """On every worker as it starts (a replacement too): one torch thread, and its sandbox zygote started."""

    name = "tensorgrade-warm-up"

    def setup(self, worker) -> None:
        import torch

        from .sandbox.launcher import warm_up

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
    with dask.config.set({**SCHEDULER_SETTINGS, **BOOKKEEPING_SETTINGS}):
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


def let_go(client: Client) -> None:
    """Stop a local cluster's worker processes now, in the background, once nothing more will run on `client`:
    their exit (a second or two each: torch's teardown) overlaps what the command still does (the last records, the
    exports) instead of following it. A cluster of your own, or the small batch's thread, is left as it is."""
    if client.cluster is not None and not in_process(client):
        client.cluster.scale(0)


def workers_started(client: Client) -> int:
    """How many workers `client` grades on, once at least one of them has started: a local cluster's workers
    start in the background (engine). TimeoutError where none starts within WORKER_START_TIMEOUT_S."""
    client.wait_for_workers(1, timeout=WORKER_START_TIMEOUT_S)
    if client.cluster is not None:
        return len(client.cluster.worker_spec)
    return len(client.scheduler_info()["workers"])
