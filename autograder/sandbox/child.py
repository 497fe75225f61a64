"""The child process: isolate itself, run the student's cells, run the grader's probes.

Run by a fork of the zygote (zygote.py) inside its new namespaces, never by the trusted
side. Everything it tells the launcher travels on one socket, as frames (see `Channel`):
"BEGIN cell:3", "FILE cell-3.json <n bytes>", "END cell:3". The launcher times each phase,
names the one that overran or crashed, and writes the evidence files itself: the child
holds no descriptor of any folder the trusted process reads.
"""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from .. import assignments
from . import namespaces, syscalls
from .phases import Phase
from .recorder import FINISHED, PROBE_FAILED

STUDENT_OUTPUT_LIMIT = 64 * 1024
# The grader's packages student code cannot import (of their files, the child's root holds those
# assignments.child_may_read admits only, for tracebacks).
PRIVATE_MODULES = ("autograder", "solutions", "course_config")


class _CappedOutput(io.TextIOBase):
    """Student prints go here: the first 64 KiB are kept, the rest is counted and dropped."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        if self.size < STUDENT_OUTPUT_LIMIT:
            self.kept.append(text[: STUDENT_OUTPUT_LIMIT - self.size])
        self.size += len(text)
        return len(text)


class Channel:
    """The one socket to the launcher. Frames: 'BEGIN phase\\n', 'END phase\\n', 'FILE name n\\n' + n bytes.

    Only the process that started the child may write: a forked copy of it (student code
    called os.fork and returned) stops at its first frame instead of speaking for the grader.
    After a probe's END the child waits for the launcher's one byte back: the launcher counts
    what runs beside the probe meanwhile (census.py).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pid = os.getpid()
        self._write = os.write  # held here: student code replacing os.write does not reach it
        self._read = os.read
        self._exit = os._exit
        self._getpid = os.getpid

    def _send(self, data: bytes) -> None:
        if self._getpid() != self.pid:
            self._exit(0)
        view = memoryview(data)
        while view:
            view = view[self._write(self.fd, view):]

    def line(self, word: str, phase: str) -> None:
        """Tell the launcher a phase begins or ends."""
        self._send(f"{word} {phase}\n".encode())

    def file(self, name: str, blob: bytes) -> None:
        """Hand the launcher one evidence file of the current phase."""
        self._send(f"FILE {name} {len(blob)}\n".encode() + blob)

    def wait(self) -> None:
        """Run nothing more until the launcher has looked at what runs beside the probe that ended (census.py);
        end if the launcher is gone."""
        if not self._read(self.fd, 1):
            self._exit(0)


def isolate(spec: dict) -> None:
    """Inside the new namespaces: a root file system of allowed paths only (see namespaces.py), read-only
    but for its private /tmp and /dev/shm, then no privileges left to undo any of it; no IP sockets.

    spec["namespaced"]: "root" (the grader runs as root: mount, pid and net namespaces, then the
    child becomes nobody), "user" (an unprivileged grader: a user namespace too, its mounts locked
    by a nested one), or "" (no namespaces: rlimits, cgroups and the audit hook only; the child
    then sees the host's files). In every mode, a seccomp filter refuses the system calls that would leave
    state behind the child (keyrings, IPC, other processes: syscalls.py).
    """
    mode = spec["namespaced"]
    if mode:
        new_root = os.path.join(spec["workdir"], "root")
        os.makedirs(new_root, 0o700, exist_ok=True)  # (a mount point only: empty again once a child is gone)
        namespaces.build_root(new_root, spec["tmp_mb"], [Path(p) for p in spec["released"]], spec["masked"])
        namespaces.enter_root(new_root)
        # In mode "user", /proc stays writable: the nested namespace's uid_map is written there,
        # and its owner cannot remount it afterwards (the host's permissions of the unprivileged
        # grader's user still apply to it).
        writable = {"/tmp", "/dev/shm"} | ({"/proc"} if mode == "user" else set())
        namespaces.remount_read_only(skip=writable)
    work = Path(namespaces.WORK if mode else Path(spec["workdir"]) / "student")
    work.mkdir(exist_ok=True)
    if mode == "root" or (not mode and os.geteuid() == 0):
        if not mode:  # no namespaces: nobody must reach its folder inside the grader's work folder
            os.chmod(spec["workdir"], 0o711)
        os.chown(work, namespaces.NOBODY, namespaces.NOBODY)
        namespaces.drop_privileges()
    elif mode == "user":
        namespaces.lock_mounts()
    os.chdir(work)
    os.environ.update(TMPDIR=str(work), HOME=str(work))
    syscalls.deny_lasting_state()  # after the last mount and unshare of the grader's own

    sys.addaudithook(_no_network)


def _private_socket(address: object) -> bool:
    """A Unix socket of this sandbox: abstract (per network namespace) or under its own /tmp."""
    if isinstance(address, bytes):
        address = address.decode("utf-8", "replace")
    if not isinstance(address, str):
        return False
    if address.startswith("\0") or not address:
        return True
    real = os.path.realpath(address)
    return real.startswith(("/tmp/", "/dev/shm/"))


def _no_network(event: str, args: tuple) -> None:
    """Audit hook: no name lookups, no IP sockets, no Unix sockets of the host (e.g. /run/*.sock)."""
    if event == "socket.getaddrinfo" or event == "socket.gethostbyname":
        raise PermissionError("network access is disabled while grading")
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        if address is not None and not _private_socket(address):
            raise PermissionError("network access is disabled while grading")


class _PrivateModules:
    """Import hook: the grader's own packages cannot be imported (or re-imported) by student code."""

    @staticmethod
    def find_spec(name: str, path=None, target=None):
        if name.split(".")[0] in PRIVATE_MODULES:
            raise ImportError(f"{name} is part of the grader and cannot be imported while grading")
        return None


def hide_grader_modules() -> dict:
    """Drop the grader's modules from sys.modules (the child keeps its references) and block them."""
    hidden = {name: mod for name, mod in sys.modules.items() if name.split(".")[0] in PRIVATE_MODULES}
    for name in hidden:
        del sys.modules[name]
    sys.meta_path.insert(0, _PrivateModules)
    return hidden


class Child:
    """One run of the child: the namespace of the student's notebook and the channel to the launcher."""

    def __init__(self, spec: dict, channel: Channel, guard) -> None:
        self.spec = spec
        self.channel = channel
        self.guard = guard
        self.ns: dict = {"__name__": "__main__", "__builtins__": __builtins__}

    def write_json(self, name: str, data: dict) -> None:
        """Send a small JSON evidence file."""
        self.channel.file(name, json.dumps(data).encode())

    def run_cells(self, student_error) -> None:
        """Execute each cell (setup cells from the release, then the student's), one at a time."""
        for cell in self.spec["cells"]:
            index = cell["index"]
            if index in self.spec["skip_cells"]:
                continue
            self.channel.line("BEGIN", Phase.cell(index).wire)
            output = _CappedOutput()
            sys.stdout = sys.stderr = output
            result: dict = {"ok": True}
            try:
                code = compile(cell["source"], f"<cell {index}>", "exec")
                exec(code, self.ns)  # noqa: S102 - this is the sandbox
            except BaseException as err:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
                result = {"ok": False, **student_error(err)}
                if isinstance(err, SyntaxError):
                    result["where"] = f"cell {index}, line {err.lineno}"
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                self.guard.heal()
            result["printed"] = output.size
            self.write_json(f"cell-{index}.json", result)
            self.channel.line("END", Phase.cell(index).wire)

    def run_probes(self, probes: dict, inputs: dict, recorder_class, torch) -> None:
        """Run each requested probe on the grader's inputs and send its evidence, ending with FINISHED when the
        probe's code ran to its end, or with PROBE_FAILED and the exception it raised."""
        for name in self.spec["probes"]:
            self.guard.heal()
            self.channel.line("BEGIN", Phase.probe(name).wire)
            torch.manual_seed(self.spec["seeds"][name])
            recorder = recorder_class(name, self.guard, self.channel)
            output = _CappedOutput()
            sys.stdout = sys.stderr = output
            try:
                probes[name](self.ns, inputs, recorder)
            except BaseException as err:  # noqa: BLE001 - the probe ends, and the judge voids its evidence
                self.guard.heal()  # before the record: student code may have patched Recorder.failure
                recorder.failure(PROBE_FAILED, err)
            else:
                recorder.note(FINISHED, True)
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                self.guard.heal()
            recorder.close()
            self.channel.line("END", Phase.probe(name).wire)
            self.channel.wait()


def _seed_everything(seed: int, torch) -> None:
    """Student cells that draw random numbers without a seed of their own draw the same ones every run.

    (Every child is forked from the same zygote, whose random states were seeded from the OS.)
    """
    import random

    random.seed(seed)
    torch.manual_seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)


def run(spec_path: str, status_fd: int) -> NoReturn:
    """The child's work, in its fresh namespaces; ends the process."""
    spec = json.loads(Path(spec_path).read_text())
    channel = Channel(status_fd)
    import torch
    from safetensors.torch import load_file

    from .arithmetic import use_grading_arithmetic
    from .guard import Guard
    from .recorder import Recorder, student_error

    use_grading_arithmetic()
    inputs = load_file(spec["inputs"])
    probes = assignments.module(spec["assignment"], "probes").PROBES
    isolate(spec)
    guard = Guard(hide_grader_modules().values())
    child = Child(spec, channel, guard)
    _seed_everything(spec["seeds"]["cells"], torch)
    child.run_cells(student_error)
    child.run_probes(probes, inputs, Recorder, torch)
    # Skip interpreter shutdown: student atexit handlers and finalizers must not keep us alive.
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - student code may have closed them
            pass
    os._exit(0)
