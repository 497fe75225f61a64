"""A pre-loaded parent for sandbox children: import torch and friends once, fork a child per run.

A fresh interpreter spends seconds importing torch, torchvision and matplotlib: more than
most submissions' own checks. The zygote imports them once; for each run the launcher asks
for, it forks, and the fork joins the run's cgroups, sets its rlimits, enters new namespaces
the way `unshare --fork --kill-child --mount-proc` does, and runs autograder.sandbox.child.
Every child starts from the zygote's pristine memory; the zygote itself never runs student
code and keeps no descriptor of any child.

Protocol, on a SOCK_SEQPACKET socket pair (one JSON message per packet):
  launcher -> zygote  a run: {"spec", "workdir", "env", "limits", "cgroup_procs", "nproc", "mode"},
                      with two descriptors: the child's status socket and its log file;
  zygote -> launcher  {"spawned": pid}: the fork, a session leader (killpg(pid) reaches its tree);
                      {"exited": pid, "status": waitpid's status}.
The zygote exits when the launcher's end closes.
"""
from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

from .limits import Limits, make_preexec
from .namespaces import PR_SET_PDEATHSIG, enter_namespaces, libc_call

# What the setup cells and probes import; each is imported once here instead of once per child.
PRELOAD = ("torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data", "safetensors.torch",
           "numpy", "PIL.Image", "torchvision", "torchvision.datasets", "torchvision.transforms", "matplotlib",
           "matplotlib.pyplot")
PACKET = 1 << 16
SPAWN_TIMEOUT_S = 300  # the first request waits for the zygote's imports


# ------------------------------------------------------------------ the zygote process

def serve(sock: socket.socket) -> None:
    """Preload, then fork a child per request until the launcher's end closes."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a library the course does not use: children import as before
            pass
    from .. import assignments
    from . import child  # noqa: F401 - loaded here, once

    for name in assignments.names():
        assignments.module(name, "probes")
    running: set[int] = set()
    while True:
        ready, _, _ = select.select([sock], [], [], 0.02)
        if ready:
            try:
                message, fds, _, _ = socket.recv_fds(sock, PACKET, 2)
            except OSError:
                message, fds = b"", []
            if not message:
                return
            settled, settling = os.pipe()
            zygote_pid = os.getpid()
            pid = os.fork()
            if pid == 0:
                sock.close()
                os.close(settled)
                _run_child(json.loads(message), fds, settling, zygote_pid)
            os.close(settling)
            for fd in fds:
                os.close(fd)
            # Answer once the fork leads its own session and sits in its cgroups (or died trying),
            # so the launcher's killpg and cgroup kill reach it from the first moment it knows the pid.
            os.read(settled, 1)
            os.close(settled)
            running.add(pid)
            if not _tell(sock, {"spawned": pid}):
                return
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            running.discard(pid)
            if not _tell(sock, {"exited": pid, "status": status}):
                return


def _tell(sock: socket.socket, message: dict) -> bool:
    try:
        sock.send(json.dumps(message).encode())
        return True
    except OSError:  # the launcher is gone
        return False


def _run_child(request: dict, fds: list[int], settling: int, zygote_pid: int) -> NoReturn:
    """In the fork: limits, namespaces, then the child's own work; never returns.

    settling: closed once the fork has its session, cgroups and rlimits (the zygote waits for it).
    The fork dies with the zygote, and the zygote with the launcher (its socket closes): a grader
    killed outright leaves no child running without its clock.
    """
    try:
        libc_call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != zygote_pid:
            os._exit(125)
        status_fd, log_fd = fds
        for target in (1, 2):
            os.dup2(log_fd, target)
        os.close(log_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["workdir"])
        os.environ.clear()
        os.environ.update(request["env"])
        try:
            make_preexec(Limits(**request["limits"]), request["cgroup_procs"], request["nproc"])()
        finally:
            os.close(settling)
        enter_namespaces(request["mode"])
        from .child import run

        run(request["spec"], status_fd)
    except BaseException:  # noqa: BLE001 - whatever happens, this fork must not return into the zygote
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(125)


# ------------------------------------------------------------------ the launcher's side

def run_request(spec: Path, workdir: Path, env: dict[str, str], limits: Limits, mode: str,
                cgroup_procs: list[str] | None = None, nproc: int | None = None) -> dict:
    """One run for Zygote.spawn (the protocol above): the child's spec, folder, environment and limits."""
    return {"spec": str(spec), "workdir": str(workdir), "env": env, "limits": asdict(limits),
            "cgroup_procs": list(cgroup_procs or []), "nproc": nproc, "mode": mode}


class ZygoteChild:
    """The launcher's handle on one forked child, shaped like subprocess.Popen (pid, poll, wait)."""

    def __init__(self, zygote: "Zygote", pid: int) -> None:
        self.zygote, self.pid = zygote, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code (negative: the signal that killed it), or None while it runs."""
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(self.pid, timeout=0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit code; subprocess.TimeoutExpired after `timeout` seconds."""
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(self.pid, timeout=timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"sandbox child {self.pid}", timeout or 0)
        return self.returncode


class Zygote:
    """Client of one zygote process; thread-safe (grade_many's workers share it)."""

    def __init__(self, env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.sandbox.zygote", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, env=env, pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.sock = ours
        self._send_lock = threading.Lock()
        self._changed = threading.Condition()
        self._spawned: list[int] = []
        self._exited: dict[int, int] = {}
        self._closed = False
        threading.Thread(target=self._read, name="zygote-reader", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                packet = self.sock.recv(PACKET)
            except OSError:
                packet = b""
            with self._changed:
                if not packet:
                    self._closed = True
                    self._changed.notify_all()
                    return
                message = json.loads(packet)
                if "spawned" in message:
                    self._spawned.append(int(message["spawned"]))
                else:
                    self._exited[int(message["exited"])] = os.waitstatus_to_exitcode(int(message["status"]))
                self._changed.notify_all()

    @property
    def alive(self) -> bool:
        """Whether the zygote still takes requests."""
        return not self._closed and self.proc.poll() is None

    def spawn(self, request: dict, status_fd: int, log_fd: int) -> ZygoteChild:
        """Fork a child for `request` (see the module's protocol); OSError if the zygote is gone."""
        with self._send_lock:
            socket.send_fds(self.sock, [json.dumps(request).encode()], [status_fd, log_fd])
            with self._changed:
                if not self._changed.wait_for(lambda: self._spawned or self._closed, SPAWN_TIMEOUT_S) \
                        or not self._spawned:
                    raise OSError("the sandbox zygote did not answer")
                return ZygoteChild(self, self._spawned.pop(0))

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """pid's exit code once the zygote reaped it; None if it still runs after `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exited or self._closed, timeout)
            if pid in self._exited:
                return self._exited.pop(pid)
            return -signal.SIGKILL if self._closed else None

    def close(self) -> None:
        """End the zygote (its children are the launcher's to kill)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_lock = threading.Lock()
_current: Zygote | None = None


def shared_zygote(env: dict[str, str]) -> Zygote:
    """This process's zygote, started on first use and again if it died."""
    global _current
    with _lock:
        if _current is None or not _current.alive:
            if _current is not None:
                _current.close()
            _current = Zygote(env)
        return _current


@atexit.register
def _stop() -> None:
    if _current is not None:
        _current.close()


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
    # Nothing is left to clean up once the launcher's end closed; an interpreter's own shutdown would spend a
    # second tearing down torch and the other preloaded modules while the grading process waits for it to exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
