"""Resource limits of the child process, and the OS mechanisms that enforce them.

  time      the launcher's clock: per cell, per probe, between phases, per submission (SIGKILL
            of the whole tree);
  memory    RLIMIT_DATA per process (heap and anonymous maps; RLIMIT_AS would count torch's huge
            reservations), and a memory cgroup for the whole tree where one is writable;
  cpu       a cpu cgroup capping the whole tree at one core (cfs_quota_us on v1, cpu.max on v2), so
            a submission that starts many busy processes slows down only itself;
  files     a root file system of allowed paths only (namespaces.py): interpreter, system libraries,
            the grader's child-side modules, the released files; nothing else of the host;
  disk      RLIMIT_FSIZE per file; size-limited private tmpfs for /tmp and /dev/shm; every other
            mount read-only inside the mount namespace;
  processes a pids cgroup (v2 or v1) where writable, else RLIMIT_NPROC (not enforced for root);
  network   a new, empty network namespace, plus an audit hook refusing IP and host Unix sockets;
  lifetime  a PID namespace: when the child (its init) dies, the kernel kills the rest; an IPC
            namespace takes its System V shared memory and message queues along;
  privilege as root: mount, pid, net, uts and ipc namespaces, then the child becomes nobody
            with no_new_privs; unprivileged: a user namespace too, its mounts locked by a nested one.
"Full" isolation is all of it: namespaces with the allow-list root, and memory, pids and cpu cgroups.
Anything less is weak (`Isolation`): the command line refuses to grade with it unless course_config.py
sets ALLOW_WEAK_ISOLATION, and then every result says which isolation was in force. Without namespaces
the child runs with rlimits, cgroups and the audit hook alone (as nobody if the grader is root): it
can then read every file the grader's user can, suites and solutions included.
"""
from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .delegation import delegated_root
from .namespaces import NOBODY, unshare_options

if TYPE_CHECKING:  # a type only: the sandbox imports nothing of the trusted layer
    from ..config import CourseConfig

MIB = 1024 * 1024
CGROUP_V1 = Path("/sys/fs/cgroup")
CGROUP_V2_ROOTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))
# Slack of the memory cgroup over RLIMIT_DATA: the tmpfs files (charged as shared memory),
# page cache and the interpreter's code.
MEMORY_SLACK_MB = 512
CPU_PERIOD_US = 100_000
CPU_CORES = 1  # each child's whole tree together gets at most this many cores
CONTROLLERS = ("memory", "pids", "cpu")
REMOVE_WAIT_S = 60


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
def isolation_mode() -> str:
    """"root" (namespaces, then uid nobody), "user" (a user namespace too) or "" (none available).

    Probed once with util-linux's unshare(1), asking for what the zygote's forks do themselves
    (the same namespaces, a forked PID 1, a fresh /proc); TENSORGRADE_NO_NAMESPACES and
    TENSORGRADE_USER_NAMESPACE force the weaker modes, to test them.
    """
    exe = shutil.which("unshare")
    if exe is None or os.environ.get("TENSORGRADE_NO_NAMESPACES"):
        return ""
    modes = ["user"]
    if os.geteuid() == 0 and not os.environ.get("TENSORGRADE_USER_NAMESPACE"):
        modes.insert(0, "root")
    for mode in modes:
        if subprocess.run([exe, *unshare_options(mode), "true"], capture_output=True, timeout=30).returncode == 0:
            return mode
    return ""


# What each part of full isolation guards against, and how to get it where it is missing.
MISSING = {
    "namespaces": (
        ("namespaces and the allow-list root file system (student code can read every file the grader's user can, "
         "the hidden suites and solutions included, and processes it starts may outlive it)"),
        ("unshare(2) was refused: run the grader as root, or in the container built from the repository's "
         "Dockerfile with the flags of docs/sandbox.md (a seccomp profile that allows unshare, mount and "
         "pivot_root, and CAP_SYS_ADMIN)")),
    "memory": (
        "a memory cgroup (only RLIMIT_DATA, per process, caps memory)",
        ("no writable memory cgroup: run as root with /sys/fs/cgroup writable (in a container: --cgroupns=host "
         "and /sys/fs/cgroup mounted read-write, or a delegated cgroup v2 subtree)")),
    "pids": (
        "a pids cgroup (only RLIMIT_NPROC caps processes, and not for root)",
        "no writable pids cgroup: as for the memory cgroup"),
    "cpu": (
        "a cpu cgroup (a submission can use every core and slow down the submissions graded beside it)",
        "no writable cpu cgroup (cpu.cfs_quota_us on v1, cpu.max on v2): as for the memory cgroup"),
}


@dataclass(frozen=True)
class Isolation:
    """What the sandbox can set up on this machine: the namespace mode and the cgroup controllers of a child."""

    mode: str  # "root", "user" or "" (see isolation_mode)
    controllers: frozenset[str]

    @property
    def missing(self) -> list[str]:
        """Parts of full isolation this machine does not give (keys of MISSING), in MISSING's order."""
        have = set(self.controllers) | ({"namespaces"} if self.mode else set())
        return [part for part in MISSING if part not in have]

    @property
    def full(self) -> bool:
        """Namespaces with the allow-list root, and memory, pids and cpu cgroups."""
        return not self.missing

    def describe(self) -> str:
        """The isolation in force, in one line (results, feedback and summaries quote it)."""
        layers = {"root": "namespaces (mount, pid, net, uts, ipc), allow-list root file system, uid nobody",
                  "user": "namespaces (user, mount, pid, net, uts, ipc), allow-list root file system",
                  "": "no namespaces (the host's file system)"}[self.mode]
        cgroups = "/".join(c for c in CONTROLLERS if c in self.controllers)
        in_force = f"{layers}, rlimits" + (f", {cgroups} cgroups" if cgroups else "")
        if self.full:
            return f"full isolation: {in_force} (one core)"
        lost = "; ".join(MISSING[part][0] for part in self.missing)
        return f"weak isolation: {in_force}; missing: {lost}"

    def refusal(self) -> str:
        """Why grading stops here, what is missing and how to get it."""
        lines = [f"not grading: the sandbox cannot isolate student code fully on this machine ({self.describe()}).",
                 "Missing:"]
        lines += [f"  - {MISSING[part][0]}: {MISSING[part][1]}." for part in self.missing]
        lines.append("See docs/sandbox.md for running the grader in a container with full isolation. To grade "
                     "anyway, with what is missing above, set ALLOW_WEAK_ISOLATION = True in course_config.py: "
                     "every results.json, feedback page, batch summary line and gradebook comment then states the "
                     "isolation in force.")
        return "\n".join(lines)


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """This machine's isolation: the namespace mode, and the cgroups a trial child run gets (made, then removed)."""
    trial = ProcessCgroup(Limits(1, 1, 1, memory_mb=64, tmp_mb=1, output_mb=1, max_processes=8))
    try:
        return Isolation(isolation_mode(), frozenset(trial.controllers))
    finally:
        trial.remove()


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path in a v1 hierarchy ("" for v2's "0::" line), from /proc/self/cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return "/"


def _delegate(root: Path, folder: Path) -> None:
    """cgroup v2: enable the pids, memory and cpu controllers for the children of `folder` (and of `root`)."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return
    for parent in (root, folder):
        try:
            available = (parent / "cgroup.controllers").read_text().split()
        except OSError:
            continue
        for controller in CONTROLLERS:
            if controller in available:
                try:
                    (parent / "cgroup.subtree_control").write_text(f"+{controller}")
                except OSError:
                    pass


@functools.lru_cache(maxsize=1)
def _delegated_root() -> Path | None:
    """A delegated cgroup v2 subtree of an unprivileged grader (autograder.sandbox.delegation), found once."""
    return delegated_root()


class ProcessCgroup:
    """Cgroups of one child run: pids (fork bombs), memory (the whole tree) and cpu (one core for the whole
    tree); no-ops where not writable.

    Created under this process's own cgroup of each v1 controller (so a container's limits still
    apply), or one v2 cgroup with pids.max, memory.max and cpu.max (under the host's v2 root, or under the
    delegated scope of an unprivileged grader: autograder.sandbox.delegation). `controllers` names those made.
    """

    def __init__(self, limits: Limits) -> None:
        max_processes, memory_mb = limits.max_processes, limits.memory_mb + 2 * limits.tmp_mb + MEMORY_SLACK_MB
        self.paths: list[Path] = []
        self.memory: Path | None = None
        self.controllers: set[str] = set()
        name = uuid.uuid4().hex
        quota = str(CPU_CORES * CPU_PERIOD_US)
        v1 = {"pids": {"pids.max": str(max_processes)},
              "cpu": {"cpu.cfs_period_us": str(CPU_PERIOD_US), "cpu.cfs_quota_us": quota}}
        v1["memory"] = {"memory.limit_in_bytes": str(memory_mb * MIB)}
        for controller, limit_files in v1.items():
            root = CGROUP_V1 / controller
            if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
                continue
            # A child's cpu cgroup sits beside the grader's own processes, not in a folder shared with the
            # other children: the kernel shares CPU time among siblings, so each child weighs as much as one
            # busy process of the machine (under a shared parent, all children together would weigh as one).
            folder = f"tensorgrade-{name}" if controller == "cpu" else f"tensorgrade/{name}"
            path = self._make(root / _own_cgroup(controller).lstrip("/") / folder, limit_files)
            if path:
                self.controllers.add(controller)
                if controller == "memory":
                    self.memory = path
        if not self.paths:
            for root in (*CGROUP_V2_ROOTS, _delegated_root()):
                if root is not None and (root / "cgroup.controllers").exists() and os.access(root, os.W_OK):
                    limits_v2 = {"pids.max": str(max_processes), "cpu.max": f"{quota} {CPU_PERIOD_US}",
                                 "memory.max": str(memory_mb * MIB)}
                    _delegate(root, root / "tensorgrade")
                    path = self._make(root / "tensorgrade" / name, limits_v2, optional={"memory.max", "cpu.max"})
                    if path:
                        self.memory = path if (path / "memory.max").exists() else None
                        self.controllers = {"pids"} | {c for c, f in (("memory", "memory.max"), ("cpu", "cpu.max"))
                                                       if (path / f).exists()}
                        break

    def _make(self, path: Path, limit_files: dict[str, str], optional: set[str] = frozenset()) -> Path | None:
        try:
            path.mkdir(parents=True)
        except OSError:
            return None
        try:
            for limit_file, value in limit_files.items():
                try:
                    (path / limit_file).write_text(value)
                except OSError:
                    if limit_file not in optional:
                        raise
        except OSError:
            self._rmdir(path)
            return None
        self.paths.append(path)
        return path

    @property
    def path(self) -> Path | None:
        """The first cgroup made (the pids one on v1), or None."""
        return self.paths[0] if self.paths else None

    def procs_files(self) -> list[str]:
        """Paths a new process writes its pid to, to join the cgroups."""
        return [str(p / "cgroup.procs") for p in self.paths]

    def procs_file(self) -> str | None:
        """The first of procs_files(), or None."""
        files = self.procs_files()
        return files[0] if files else None

    def pids(self) -> set[int]:
        """The processes in the cgroups now."""
        pids: set[int] = set()
        for path in self.paths:
            try:
                pids |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return pids

    def kill_all(self) -> None:
        """SIGKILL every process still in the cgroups (stragglers that left the pid namespace)."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def out_of_memory(self) -> bool:
        """Whether the kernel's OOM killer acted in the memory cgroup."""
        if self.memory is None:
            return False
        for name, key in (("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill")):
            try:
                for line in (self.memory / name).read_text().splitlines():
                    field, _, value = line.partition(" ")
                    if field == key and int(value) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def peak_memory_mb(self) -> float:
        """The most memory the cgroup's processes held at once, in MiB (v1 memory.max_usage_in_bytes, v2
        memory.peak); 0 without a memory cgroup or where the kernel does not keep the peak."""
        if self.memory is None:
            return 0.0
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            try:
                return int((self.memory / name).read_text().split()[0]) / MIB
            except (OSError, ValueError, IndexError):
                continue
        return 0.0

    def remove(self) -> None:
        """Kill what is left and remove the cgroups, waiting for dying processes to go.

        A fork bomb's few hundred processes, killed while they fork, can take seconds to exit.
        """
        for path in self.paths:
            deadline = time.monotonic() + REMOVE_WAIT_S
            while path.exists():
                self.kill_all()
                if self._rmdir(path) or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
        self.paths = []

    @staticmethod
    def _rmdir(path: Path) -> bool:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            return False


def nproc_limit(limits: Limits, cgroup: ProcessCgroup) -> int | None:
    """RLIMIT_NPROC for the child where no cgroup caps it: the user's current count plus the budget.

    The kernel counts every process of the user (and ignores the limit for root).
    """
    if cgroup.path:
        return None
    uid = NOBODY if isolation_mode() == "root" else os.getuid()
    if uid == 0:
        return None
    mine = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid)
    return mine + limits.max_processes


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:
        return None


def make_preexec(limits: Limits, cgroup_procs: list[str], nproc: int | None):
    """A function the zygote's fork runs before anything else: a session of its own, the cgroups, the rlimits."""
    procs_files = list(cgroup_procs)

    def preexec() -> None:
        os.setsid()
        for procs in procs_files:
            with open(procs, "w") as f:
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
