"""Start the child under its limits, time every phase, restart it past a crash or hang.

A phase is one cell or one probe. When the child dies or overruns inside a phase, that
phase is charged with the reason and a fresh child carries on without it, so a crash
costs only the checks that had not produced evidence.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .limits import Limits, ProcessCgroup, make_preexec, nproc_limit, unshare_command

LOG_TAIL = 4000


@dataclass
class SandboxRun:
    """What happened in the child: phases finished, phases lost and why, how it was isolated."""

    finished: set[str] = field(default_factory=set)
    lost: dict[str, str] = field(default_factory=dict)
    isolation: str = ""
    restarts: int = 0
    log_tail: str = ""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "did not finish"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"ended the grading process (exit code {code})"


def _phase_label(phase: str, labels: dict[str, str]) -> str:
    return labels.get(phase, phase)


def _kill(proc: subprocess.Popen, cgroup: ProcessCgroup) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    cgroup.kill_all()


def run_sandboxed(
    spec: dict, workdir: Path, limits: Limits, labels: dict[str, str], hidden: list[str]
) -> SandboxRun:
    """Run spec's cells and probes in child processes; evidence lands in workdir/evidence.

    labels: a human name per phase ("cell 7 (normalize)") for messages.
    """
    workdir = Path(workdir)
    evidence = workdir / "evidence"
    evidence.mkdir(exist_ok=True)
    prefix = unshare_command()
    run = SandboxRun(isolation="namespaces (user, pid, net, mount) + rlimits" if prefix else "rlimits only")
    skip_cells: list[int] = []
    probes = list(spec["probes"])
    deadline = time.monotonic() + limits.submission_time_s
    log_path = workdir / "child.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "TMPDIR": str(workdir)}
    while True:
        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        child_spec = {**spec, "probes": probes, "skip_cells": skip_cells, "namespaced": bool(prefix),
                      "hidden": hidden, "evidence_dir": str(evidence), "workdir": str(workdir),
                      "status_fd": write_end, "tmp_mb": limits.tmp_mb}
        spec_path = workdir / "spec.json"
        spec_path.write_text(json.dumps(child_spec))
        cgroup = ProcessCgroup(limits.max_processes)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [*prefix, sys.executable, "-I", "-m", "autograder.sandbox.child", str(spec_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env,
                pass_fds=(write_end,), preexec_fn=make_preexec(limits, cgroup.procs_file(), nproc_limit(limits, cgroup)),
            )
        os.close(write_end)
        current, started, reason = _watch(proc, read_end, run, limits, deadline, cgroup)
        os.close(read_end)
        cgroup.kill_all()
        cgroup.remove()
        if current is not None:
            run.lost[current] = reason or f"{_phase_label(current, labels)} {_describe_exit(proc.returncode)}"
            if current.startswith("cell:"):
                skip_cells.append(int(current.split(":", 1)[1]))
            else:
                probes.remove(current.split(":", 1)[1])
        probes = [p for p in probes if f"probe:{p}" not in run.finished]
        if not probes:
            break
        if time.monotonic() >= deadline or current is None:
            why = (f"grading stopped: the submission used its whole {limits.submission_time_s:g} s budget"
                   if time.monotonic() >= deadline else
                   f"the grading process {_describe_exit(proc.returncode)} before this check ran")
            for p in probes:
                run.lost.setdefault(f"probe:{p}", why)
            break
        run.restarts += 1
    run.log_tail = log_path.read_bytes()[-LOG_TAIL:].decode("utf-8", "replace") if log_path.exists() else ""
    return run


def _watch(proc, read_end, run, limits, deadline, cgroup) -> tuple[str | None, float, str | None]:
    """Follow the status pipe until the child exits; kill it when a phase or the budget overruns."""
    current, started, reason = None, time.monotonic(), None
    buffer = b""
    while True:
        now = time.monotonic()
        if current is not None:
            limit = limits.cell_time_s if current.startswith("cell:") else limits.check_time_s
            if now - started > limit:
                reason = f"ran longer than the {limit:g} s limit"
                _kill(proc, cgroup)
                break
        if now > deadline:
            reason = f"stopped: the submission used its whole {limits.submission_time_s:g} s budget"
            _kill(proc, cgroup)
            break
        ready, _, _ = select.select([read_end], [], [], 0.1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        buffer = (buffer + chunk)[-65536:]
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            word, _, phase = line.decode("utf-8", "replace").partition(" ")
            if word == "BEGIN":
                current, started = phase, time.monotonic()
            elif word == "END" and phase == current:
                run.finished.add(phase)
                current = None
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _kill(proc, cgroup)
        proc.wait()
    return current, started, reason
