"""Resource limits of the child process, and the OS mechanisms that enforce them.

  time     the launcher's clock: per cell, per probe, per submission (SIGKILL of the whole tree);
  memory   RLIMIT_DATA (heap and anonymous maps; RLIMIT_AS would count torch's huge reservations);
  disk     RLIMIT_FSIZE per file, a size-limited tmpfs for /tmp inside the mount namespace;
  processes a pids cgroup (v2 or v1) where writable, else RLIMIT_NPROC (not enforced for root);
  network  a new, empty network namespace (unshare), plus an audit hook refusing IP sockets;
  lifetime a PID namespace: when the child's first process dies, the kernel kills the rest.
Where unshare is unavailable, the child runs with rlimits alone and the audit hook.
"""
from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..config import CourseConfig

MIB = 1024 * 1024
UNSHARE_FLAGS = ["--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


@dataclass(frozen=True)
class Limits:
    """What one submission may use (from course_config.py)."""

    cell_time_s: float
    check_time_s: float
    submission_time_s: float
    memory_mb: int
    tmp_mb: int
    output_mb: int
    max_processes: int

    @classmethod
    def from_config(cls, config: CourseConfig) -> "Limits":
        """The limits course_config.py sets."""
        return cls(config.cell_time_limit_s, config.check_time_limit_s, config.submission_time_limit_s,
                   config.memory_limit_mb, config.tmp_limit_mb, config.output_limit_mb, config.max_processes)


@functools.lru_cache(maxsize=1)
def unshare_command() -> list[str]:
    """The unshare prefix that isolates the child, or [] where namespaces are unavailable."""
    exe = shutil.which("unshare")
    if exe is None or os.environ.get("TENSORGRADE_NO_NAMESPACES"):
        return []
    probe = subprocess.run([exe, *UNSHARE_FLAGS, "true"], capture_output=True, timeout=30)
    return [exe, *UNSHARE_FLAGS, "--"] if probe.returncode == 0 else []


class ProcessCgroup:
    """A pids cgroup capping the child's process count; a no-op where none is writable."""

    def __init__(self, max_processes: int) -> None:
        self.path: Path | None = None
        for root in CGROUP_ROOTS:
            if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
                candidate = root / "tensorgrade" / uuid.uuid4().hex
                try:
                    candidate.mkdir(parents=True)
                    (candidate / "pids.max").write_text(str(max_processes))
                except OSError:
                    shutil.rmtree(candidate, ignore_errors=True) if candidate.exists() else None
                    continue
                self.path = candidate
                break

    def procs_file(self) -> str | None:
        """Path a new process writes its pid to, to join the cgroup."""
        return str(self.path / "cgroup.procs") if self.path else None

    def kill_all(self) -> None:
        """SIGKILL every process still in the cgroup (stragglers that left the pid namespace)."""
        if not self.path:
            return
        try:
            pids = (self.path / "cgroup.procs").read_text().split()
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError, PermissionError):
                pass

    def remove(self) -> None:
        """Remove the cgroup (it must be empty)."""
        if self.path:
            try:
                self.path.rmdir()
            except OSError:
                pass


def nproc_limit(limits: Limits, cgroup: ProcessCgroup) -> int | None:
    """RLIMIT_NPROC for the child where no cgroup caps it: the user's current count plus the budget.

    The kernel counts every process of the user (and ignores the limit for root).
    """
    if cgroup.path or os.getuid() == 0:
        return None
    uid = os.getuid()
    mine = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid)
    return mine + limits.max_processes


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:
        return None


def make_preexec(limits: Limits, cgroup_procs: str | None, nproc: int | None):
    """A function run in the forked child before exec: join the cgroup, set rlimits."""

    def preexec() -> None:
        os.setsid()
        if cgroup_procs:
            with open(cgroup_procs, "w") as f:
                f.write(str(os.getpid()))
        mem = limits.memory_mb * MIB
        resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))
        out = limits.output_mb * MIB
        resource.setrlimit(resource.RLIMIT_FSIZE, (out, out))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        # Writing past RLIMIT_FSIZE then fails with EFBIG instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return preexec
