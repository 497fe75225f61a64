"""The launcher's count of what runs beside a probe (autograder.sandbox.census), on real processes."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox.census import left_running

# Each script prints "ready" once what it starts runs, then sleeps; the test kills it.
PLAIN = "import time; print('ready', flush=True); time.sleep(60)"
THREAD = """
import threading, time
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
print('ready', flush=True); time.sleep(60)
"""
# A child that sleeps, and one that exited and was never reaped: one process runs, the zombie runs nothing.
CHILDREN = """
import os, time
if os.fork() == 0:
    time.sleep(60)
if os.fork() == 0:
    os._exit(0)
time.sleep(0.5)
print('ready', flush=True); time.sleep(60)
"""
# As the namespaced sandbox: a parent that only waits, and its one child (the child proper) with a thread.
NAMESPACE_PARENT = f"""
import os, sys
child = os.fork()
if child == 0:
    os.execv(sys.executable, [sys.executable, "-c", {THREAD!r}])
os.waitpid(child, 0)
"""
# A process that keeps forking short-lived ones: the count ends (each process it lists is stopped, and a
# stopped process forks no more) and finds them.
FORKING = """
import os, time
print('ready', flush=True)
while True:
    if os.fork() == 0:
        time.sleep(0.05)
        os._exit(0)
    time.sleep(0.01)
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
"""


def _start(script: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.mark.parametrize(("script", "namespaced", "expected"), [
    (PLAIN, False, ""),
    (THREAD, False, "1 thread"),
    (CHILDREN, False, "1 process"),
    (NAMESPACE_PARENT, True, "1 thread"),
], ids=["nothing", "a thread", "a process beside a zombie", "a thread of the namespace's first process"])
def test_the_census_counts_what_runs_beside_the_sandboxs_own_tasks(script, namespaced, expected):
    proc = _start(script)
    try:
        assert left_running(proc.pid, namespaced, set) == expected
        assert _state(proc.pid) != "T", "the census left the process stopped"
    finally:
        proc.kill()
        proc.wait()


def test_the_census_counts_processes_only_its_cgroup_lists():
    root, stray = _start(PLAIN), _start(PLAIN)  # stray: not root's child, as a daemon outside a PID namespace
    try:
        assert left_running(root.pid, False, lambda: {root.pid, stray.pid}) == "1 process"
        assert _state(stray.pid) != "T"
    finally:
        for proc in (root, stray):
            proc.kill()
            proc.wait()


def test_the_census_holds_a_forking_tree_and_lets_it_go_on():
    proc = _start(FORKING)
    try:
        time.sleep(0.3)
        assert left_running(proc.pid, False, set).endswith("processes")
        assert _state(proc.pid) != "T"
    finally:
        proc.kill()  # its children end by themselves
        proc.wait()
