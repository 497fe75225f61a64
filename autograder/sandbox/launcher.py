"""Start the child under its limits, time every phase, restart it past a crash or hang.

A phase is one cell or one probe. When the child dies or overruns inside a phase, that
phase is charged with the reason and a fresh child carries on without it, so a crash
costs only the checks that had not produced evidence.

The child speaks on one socket (see child.Channel): BEGIN/END lines and FILE frames that
carry the evidence. The launcher writes the evidence files itself, and only the files of
the phase that is running, once each: student code that writes to the socket (a forged
frame, a second BEGIN to reset the clock, an END of a phase that is not running) makes the
running phase lose its points instead of changing what the grader reads. At a probe's END
the launcher counts what runs in the child's tree (census.py), the child held, and voids the
probe if anything runs beside it; then it answers one byte and the child goes on.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..paths import RELEASE_DIR, cache_dir
from . import census
from .limits import Limits, ProcessCgroup, isolation, nproc_limit
from .namespaces import dataset_folders, released_files
from .phases import Phase
from .recorder import LEFT_RUNNING
from .zygote import ZygoteChild, run_request, shared_zygote

LOG_TAIL = 4000
MAX_EVIDENCE_BYTES = 256 * 1024 * 1024  # all files of one submission together
# Files of one submission: a cell's, a probe's JSON, and one per tensor it recorded (the course's submissions
# write about 300); a list of lists of tensors cannot make the trusted side open hundreds of thousands.
MAX_EVIDENCE_FILES = 5000
MAX_HEADER = 512
FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
TAMPERED = ("wrote into the grader's private result channel (the grader cannot trust what it "
            "recorded there, so this part gets no points)")
SANDBOX_FAILED = ("this check was not run: the grader's sandbox failed to start (an error in the grader, "
                  "not in your notebook)")
ACK = b"\x06"  # the launcher's answer to a probe's END: the child may go on (child.Channel.wait)


@dataclass
class SandboxRun:
    """What happened in the child: phases finished, phases lost and why, how it was isolated.

    lost: phase -> reason. For a cell the reason completes "cell 7 (normalize) ..."; for a
    probe it completes "<what was checked>: ...".
    """

    finished: set[Phase] = field(default_factory=set)
    lost: dict[Phase, str] = field(default_factory=dict)
    isolation: str = ""
    log_tail: str = ""
    sandbox_failed: bool = False
    peak_memory_mb: float = 0.0  # the largest peak of the child runs' memory cgroups
    seconds: dict[Phase, float] = field(default_factory=dict)  # wall-clock seconds of each finished phase


@dataclass
class _Outcome:
    """How one child run ended."""

    current: str | None = None  # the phase it was in when it ended or was stopped
    reason: str | None = None  # why it was stopped (None: it exited by itself)
    began: bool = False  # it reached its first phase


def _describe_exit(code: int | None, oom: bool, limits: Limits) -> str:
    """Why the child ended, as a predicate: 'cell 7 (normalize) <this>'."""
    if oom:
        return f"used more than the {limits.memory_mb} MB memory limit and was stopped"
    if code is None:
        return "did not finish"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGSEGV:
            return "crashed the Python process (segmentation fault, SIGSEGV)"
        if -code == signal.SIGKILL:
            return "was killed (SIGKILL)"
        return f"crashed the Python process (it was killed by {name})"
    return f"ended the grading process (exit code {code}, e.g. by os._exit or os.kill)"


def _kill(proc: ZygoteChild, cgroup: ProcessCgroup) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    cgroup.kill_all()


class _Evidence:
    """The evidence folder, written only by the launcher from the child's FILE frames."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.budget = MAX_EVIDENCE_BYTES
        self.count = 0  # files written
        self.files: dict[str, list[str]] = {}  # phase -> files written for it

    @staticmethod
    def allowed(phase: str, name: str) -> bool:
        kind, _, what = phase.partition(":")
        if kind == "cell":
            return name == f"cell-{what}.json"
        tensor_file = rf"{re.escape(what)}\.t[1-9][0-9]{{0,5}}\.safetensors"
        return name == f"{what}.json" or re.fullmatch(tensor_file, name) is not None

    @staticmethod
    def appended(name: str) -> bool:
        """A probe's JSON arrives a record at a time (recorder.Recorder): its frames are appended, in order."""
        return name.endswith(".json") and not name.startswith("cell-")

    def write(self, phase: str, name: str, blob: bytes) -> None:
        self.budget -= len(blob)
        if self.appended(name):
            with open(self.folder / name, "ab") as out:
                out.write(blob)
        else:
            tmp = self.folder / (name + ".part")
            tmp.write_bytes(blob)
            os.replace(tmp, self.folder / name)
        if name not in self.files.get(phase, []):
            self.files.setdefault(phase, []).append(name)
            self.count += 1

    def discard(self, phase: str) -> None:
        for name in self.files.pop(phase, []):
            try:
                (self.folder / name).unlink()
            except OSError:
                pass


class _Protocol:
    """Parses the child's socket and enforces the order of frames of one child run.

    at_probe_end(phase): called at each probe's END, while the child waits; returns what it found running beside
    the probe ("" for nothing), which voids the probe (`voided`).
    """

    def __init__(self, expected: set[str], evidence: _Evidence, at_probe_end: Callable[[str], str]) -> None:
        self.expected = expected
        self.evidence = evidence
        self.at_probe_end = at_probe_end
        self.voided: dict[str, str] = {}  # probe -> what ran beside it (census.left_running)
        self.buffer = bytearray()
        self.pending: tuple[str, int] | None = None  # FILE frame waiting for its bytes
        self.pieces: list[bytes] = []
        self.have = 0
        self.current: str | None = None
        self.last: str | None = None
        self.started = self.ended = time.monotonic()
        self.begun: set[str] = set()
        self.written: set[str] = set()
        self.finished: list[str] = []
        self.seconds: dict[str, float] = {}
        self.violation: str | None = None  # why the running phase is charged, once it broke the rules

    def feed(self, chunk: bytes) -> None:
        """Consume bytes from the socket; sets `violation` at the first frame out of place."""
        self.buffer += chunk
        while self.violation is None:
            if self.pending is not None:
                name, size = self.pending
                take = min(size - self.have, len(self.buffer))
                if take:
                    self.pieces.append(bytes(self.buffer[:take]))
                    del self.buffer[:take]
                    self.have += take
                if self.have < size:
                    return
                blob = b"".join(self.pieces)
                self.pending, self.pieces, self.have = None, [], 0
                self.evidence.write(self.current, name, blob)  # type: ignore[arg-type]
                continue
            newline = self.buffer.find(b"\n")
            if newline < 0:
                if len(self.buffer) > MAX_HEADER:
                    self.violation = TAMPERED
                return
            line = bytes(self.buffer[:newline]).decode("utf-8", "replace")
            del self.buffer[:newline + 1]
            self._line(line)

    @property
    def charged(self) -> str | None:
        """The phase that pays for a violation: the running one, else the one that just ended."""
        return self.current or self.last

    def _line(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word == "BEGIN":
            if self.current is not None or rest in self.begun or rest not in self.expected:
                self.violation = TAMPERED
                return
            self.current = self.last = rest
            self.begun.add(rest)
            self.started = time.monotonic()
        elif word == "END":
            if rest != self.current:
                self.violation = TAMPERED
                return
            self.finished.append(rest)
            self.current = None
            self.ended = time.monotonic()
            self.seconds[rest] = self.ended - self.started
            if not Phase.parse(rest).is_cell:  # only expected phases end
                running = self.at_probe_end(rest)
                if running:
                    self.voided[rest] = running
        elif word == "FILE":
            name, _, size = rest.rpartition(" ")
            if (self.current is None or not size.isdigit() or not FILE_NAME.fullmatch(name)
                    or not self.evidence.allowed(self.current, name)
                    or (name in self.written and not self.evidence.appended(name))):
                self.violation = TAMPERED
                return
            if self.evidence.count >= MAX_EVIDENCE_FILES and name not in self.written:
                self.violation = (f"returned more than {MAX_EVIDENCE_FILES:,} results, more than the grader "
                                  "keeps")
                return
            if int(size) > self.evidence.budget:
                self.violation = (f"returned more than {MAX_EVIDENCE_BYTES // 2**20} MB of results, "
                                  "more than the grader keeps")
                return
            self.written.add(name)
            self.pending = (name, int(size))
        else:
            self.violation = TAMPERED


def run_sandboxed(spec: dict, workdir: Path, limits: Limits, data_folders: list[str] = ()) -> SandboxRun:
    """Run spec's cells and probes in child processes; evidence lands in workdir/evidence.

    The child's work folder holds the assignment's released code (release/<assignment>/*.py). data_folders:
    where the course's datasets live, hidden from the child with every other dataset folder it could reach.
    """
    workdir = Path(workdir)
    folder = workdir / "evidence"
    folder.mkdir(exist_ok=True)
    evidence = _Evidence(folder)
    status = isolation()
    mode = status.mode
    run = SandboxRun(isolation=status.describe())
    released = [str(p) for p in released_files(RELEASE_DIR / spec["assignment"])]
    masked = dataset_folders(list(data_folders))
    skip_cells: list[int] = []
    probes = list(spec["probes"])
    deadline = time.monotonic() + limits.submission_time_s
    log_path = workdir / "child.log"
    env = {**child_environment(), "TMPDIR": str(workdir)}
    while True:
        ours, theirs = socket.socketpair()
        read_end = ours.fileno()
        child_spec = {**spec, "probes": probes, "skip_cells": skip_cells, "namespaced": mode,
                      "released": released, "masked": masked, "workdir": str(workdir), "tmp_mb": limits.tmp_mb}
        spec_path = workdir / "spec.json"
        spec_path.write_text(json.dumps(child_spec))
        expected = {Phase.cell(c["index"]).wire for c in spec["cells"] if c["index"] not in skip_cells}
        expected |= {Phase.probe(p).wire for p in probes}
        cgroup = ProcessCgroup(limits)
        request = run_request(spec_path, workdir, env, limits, mode, cgroup.procs_files(), nproc_limit(limits, cgroup))
        try:
            try:
                with open(log_path, "ab") as log:
                    proc = shared_zygote(zygote_environment()).spawn(request, theirs.fileno(), log.fileno())
            except OSError:
                run.sandbox_failed = True
                for p in probes:
                    run.lost.setdefault(Phase.probe(p), SANDBOX_FAILED)
                break
            finally:
                theirs.close()
            protocol = _Protocol(expected, evidence, _counter(proc.pid, bool(mode), cgroup, ours))
            outcome = _watch(proc, read_end, protocol, limits, deadline, cgroup)
        finally:
            ours.close()
            cgroup.kill_all()
            oom = cgroup.out_of_memory()
            run.peak_memory_mb = max(run.peak_memory_mb, cgroup.peak_memory_mb())
            cgroup.remove()
        run.finished.update(Phase.parse(wire) for wire in protocol.finished)  # only expected phases finish
        run.seconds.update({Phase.parse(wire): secs for wire, secs in protocol.seconds.items()})
        for wire, running in protocol.voided.items():
            evidence.discard(wire)
            run.lost[Phase.parse(wire)] = f"your code {LEFT_RUNNING.format(running)}"
        current = outcome.current
        if current is not None:
            evidence.discard(current)
            phase = Phase.parse(current)  # only expected phases begin
            run.finished.discard(phase)
            if outcome.reason is not None:
                reason = outcome.reason
            else:
                reason = _describe_exit(proc.returncode, oom, limits)
            run.lost[phase] = reason if phase.is_cell else f"your code {reason}"
            if phase.is_cell:
                skip_cells.append(phase.key)
            elif phase.key in probes:
                probes.remove(phase.key)
        probes = [p for p in probes if Phase.probe(p) not in run.finished]
        if not probes:
            break
        if not outcome.began:
            run.sandbox_failed = True
            for p in probes:
                run.lost.setdefault(Phase.probe(p), SANDBOX_FAILED)
            break
        if time.monotonic() >= deadline or current is None:
            why = (f"this check was not run: the submission used its whole {limits.submission_time_s:g} s "
                   "time budget" if time.monotonic() >= deadline else
                   f"this check was not run: your code {_describe_exit(proc.returncode, oom, limits)} before it")
            for p in probes:
                run.lost.setdefault(Phase.probe(p), why)
            break
    run.log_tail = printable(log_path.read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")) if log_path.exists() else ""
    return run


def _counter(root: int, namespaced: bool, cgroup: ProcessCgroup, channel: socket.socket) -> Callable[[str], str]:
    """What the protocol calls at a probe's END: count what runs beside the probe (census.py), then answer the
    child, which waits for it (child.Channel.wait)."""
    def at_probe_end(phase: str) -> str:
        running = census.left_running(root, namespaced, cgroup.pids)
        try:
            channel.send(ACK, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
        except OSError:  # the child is gone, or it never read an answer and let them pile up
            pass
        return running
    return at_probe_end


def warm_up() -> None:
    """Start the zygote now (it returns at once), so its imports overlap the caller's own preparation."""
    shared_zygote(zygote_environment())


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """The child's output made safe for an instructor's terminal and log viewer: control characters but tab and
    newline (escape sequences that clear the screen, move the cursor or set the clipboard) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def child_environment() -> dict[str, str]:
    """The child's environment (plus its TMPDIR): one thread, no GPU, no matplotlib window, fixed hashes."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0"}


def zygote_environment() -> dict[str, str]:
    """The zygote's: the child's, with matplotlib's font cache kept between runs of the grader."""
    return {**child_environment(), "MPLCONFIGDIR": str(cache_dir() / "matplotlib")}


def _watch(proc, read_end, protocol: _Protocol, limits: Limits, deadline: float, cgroup) -> _Outcome:
    """Follow the socket until the child exits; kill it when a phase, a gap or the budget overruns."""
    outcome = _Outcome()
    spawned = time.monotonic()
    while True:
        now = time.monotonic()
        current = protocol.current
        if protocol.violation is not None:
            outcome.current, outcome.reason = protocol.charged, protocol.violation
            _kill(proc, cgroup)
            break
        if current is not None:
            limit = limits.cell_time_s if Phase.parse(current).is_cell else limits.check_time_s
            if now - protocol.started > limit:
                outcome.current, outcome.reason = current, f"ran longer than the {limit:g} s limit"
                _kill(proc, cgroup)
                break
        else:
            # Between phases the child only sends evidence: a long gap is student code that
            # kept running after a forged END (or a hang at start-up, charged to no phase).
            last = protocol.last
            gap_limit = limits.check_time_s if last is None else limits.cell_time_s
            since = spawned if last is None else protocol.ended
            if now - since > gap_limit and (last is not None or now - spawned > limits.check_time_s):
                if last is not None and protocol.expected - protocol.begun:
                    outcome.current = last
                    outcome.reason = f"ran longer than the {gap_limit:g} s limit"
                _kill(proc, cgroup)
                break
        if now > deadline:
            outcome.current = current
            outcome.reason = (f"was stopped: the submission used its whole {limits.submission_time_s:g} s "
                              "time budget")
            _kill(proc, cgroup)
            break
        ready, _, _ = select.select([read_end], [], [], 0.1)
        if not ready:
            if proc.poll() is not None:
                # Drain what the child wrote just before it exited.
                _drain(read_end, protocol)
                outcome.current = protocol.current
                break
            continue
        chunk = _read(read_end)
        if not chunk:
            outcome.current = protocol.current
            break
        protocol.feed(chunk)
    outcome.began = bool(protocol.begun)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _kill(proc, cgroup)
        proc.wait()
    return outcome


def _drain(read_end: int, protocol: _Protocol) -> None:
    while protocol.violation is None:
        ready, _, _ = select.select([read_end], [], [], 0)
        if not ready:
            return
        chunk = _read(read_end)
        if not chunk:
            return
        protocol.feed(chunk)


def _read(read_end: int) -> bytes:
    """What the child wrote since the last read; b"" once it is gone, also where it exited leaving the launcher's
    answer unread (its end of the socket was then reset)."""
    try:
        return os.read(read_end, 1 << 20)
    except ConnectionResetError:
        return b""
