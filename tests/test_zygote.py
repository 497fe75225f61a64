"""The zygote that forks sandbox children: exits, signals and its own death reach the launcher."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from autograder.sandbox import zygote as zygote_module
from autograder.sandbox.launcher import child_environment, zygote_environment
from autograder.sandbox.limits import Limits, isolation_mode
from autograder.sandbox.zygote import Zygote, run_request, shared_zygote
from tests.helpers import solution, test_config, write


def _spawn(zygote: Zygote, spec: Path, folder: Path):
    request = run_request(spec, folder, child_environment(), Limits.from_config(test_config()), isolation_mode())
    read_end, write_end = os.pipe()
    try:
        with open(folder / "child.log", "ab") as log:
            return zygote.spawn(request, write_end, log.fileno())
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_child_that_fails_to_start_exits_125_and_says_why_in_its_log(tmp_path):
    child = _spawn(shared_zygote(zygote_environment()), tmp_path / "no-such-spec.json", tmp_path)
    assert child.wait(timeout=60) == 125
    assert "no-such-spec.json" in (tmp_path / "child.log").read_text()


def test_a_child_killed_by_a_signal_reports_minus_that_signal(tmp_path):
    spec = tmp_path / "spec.fifo"
    os.mkfifo(spec)  # reading it blocks: the child waits until it is killed
    child = _spawn(shared_zygote(zygote_environment()), spec, tmp_path)
    try:
        assert child.poll() is None
        os.killpg(child.pid, signal.SIGKILL)  # as the launcher does: the child leads its own session
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def test_children_die_with_the_zygote(tmp_path):
    """A grader killed outright closes the zygote's socket; nothing it started may run on unwatched."""
    zygote = Zygote(zygote_environment())
    spec = tmp_path / "spec.fifo"
    os.mkfifo(spec)
    child = _spawn(zygote, spec, tmp_path)
    zygote.close()
    deadline = time.monotonic() + 30
    while _session(child.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session(child.pid) == []


def _session(sid: int) -> list[int]:
    """Live (not zombie) processes of session `sid`: the child and its namespace's PID 1."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(stat.parent.name))
    return found


def test_a_dead_zygote_is_replaced_and_a_closed_one_exits():
    first = shared_zygote(zygote_environment())
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait()
    second = shared_zygote(zygote_environment())
    assert second is not first and second.alive
    second.close()
    assert second.proc.returncode is not None
    assert zygote_module.shared_zygote(zygote_environment()).alive  # and the next caller gets a new one


def test_student_code_dies_with_a_grader_killed_outright(tmp_path):
    """The kernel forgets a process's parent-death signal when it drops to nobody (or enters a user
    namespace): the child asks again, so a grader killed with SIGKILL leaves no student code running."""
    tag = str(random.randint(10**8, 10**9))
    stuck = nbformat.v4.new_code_cell(f"import subprocess, time\nsubprocess.Popen(['sleep', '{tag}'])\n"
                                      "while True:\n    time.sleep(0.05)")
    nb = solution("part1_regression")
    nb.cells.insert(3, stuck)
    path = write(nb, tmp_path / "stuck.ipynb")
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(path), "--assignment",
                               "part1_regression", "--out", str(tmp_path / "out.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _running(f"sleep {tag}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _running(f"sleep {tag}"), "the stuck cell never started"
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 30
    while _running(f"sleep {tag}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(f"sleep {tag}"), "student code outlived the grader"


def _running(command: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().replace(b"\0", b" ").strip() == command.encode():
                status = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if status != "Z":
                    return True
        except OSError:
            continue
    return False
