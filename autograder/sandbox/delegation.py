"""An unprivileged grader's own cgroups on a cgroup v2 host with systemd: a delegated subtree.

A user's processes own no writable cgroup, but `systemd-run --user --scope -p Delegate=yes CMD` runs CMD
in a transient scope that the user owns, with the memory, pids and cpu controllers handed down
(systemd.resource-control(5), "Delegate="). The command line re-runs a grading command there once
(`reexec_command`); the grader then moves its processes into a leaf, LEAF, since cgroup v2 lets a cgroup
give controllers to its children only while it holds no process itself, and makes each child's cgroup
beside that leaf (`delegated_root`, which autograder.sandbox.limits.ProcessCgroup uses as a v2 root).

On a cgroup v1 host, as root, or without systemd, none of this applies and every function returns None.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

V2_MOUNT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
LEAF = "grader"  # the leaf cgroup the grader's own processes move to
CONTROLLERS = ("memory", "pids", "cpu")
# Set in the re-run command's environment: the scope was asked for once, never again.
REEXEC_MARK = "TENSORGRADE_DELEGATED_SCOPE"
SYSTEMD_RUN = ("systemd-run", "--user", "--scope", "--quiet", "-p", "Delegate=yes", "--")


def own_v2_cgroup(proc_cgroup: Path = PROC_CGROUP, mount: Path = V2_MOUNT) -> Path | None:
    """This process's cgroup folder where cgroup v2 is the only hierarchy (a single "0::PATH" line), else None."""
    try:
        lines = proc_cgroup.read_text().split()
    except OSError:
        return None
    if len(lines) != 1 or not lines[0].startswith("0::"):
        return None
    return mount / lines[0][3:].lstrip("/")


def _writable(folder: Path) -> bool:
    return all(os.access(folder / name, os.W_OK) for name in ("cgroup.procs", "cgroup.subtree_control"))


def delegated_root(proc_cgroup: Path = PROC_CGROUP, mount: Path = V2_MOUNT) -> Path | None:
    """The cgroup under which this user may make children with memory, pids and cpu limits, or None.

    That is this process's own v2 cgroup when the user may write it and it offers the three controllers
    (a delegated scope), after every process in it has moved into its leaf LEAF; a process already in
    that leaf (a Dask worker the grader started) gets the scope above it.
    """
    own = own_v2_cgroup(proc_cgroup, mount)
    if own is None:
        return None
    scope = own.parent if own.name == LEAF else own
    try:
        offered = set((scope / "cgroup.controllers").read_text().split())
    except OSError:
        return None
    if not _writable(scope) or not set(CONTROLLERS) <= offered:
        return None
    if own == scope:
        leaf = scope / LEAF
        try:
            leaf.mkdir(exist_ok=True)
            for pid in (scope / "cgroup.procs").read_text().split():
                (leaf / "cgroup.procs").write_text(pid)
            for controller in CONTROLLERS:
                (scope / "cgroup.subtree_control").write_text(f"+{controller}")
        except OSError:
            return None
    return scope


def reexec_command(argv: list[str]) -> list[str] | None:
    """The command that re-runs `python -m autograder ARGV` in a delegated systemd scope, or None where that
    cannot help: as root, on cgroup v1, in a scope already delegated or asked for, or where
    `systemd-run --user` cannot start one (no systemd user manager, as in most containers)."""
    if os.geteuid() == 0 or os.environ.get(REEXEC_MARK) or own_v2_cgroup() is None or delegated_root():
        return None
    if shutil.which(SYSTEMD_RUN[0]) is None:
        return None
    try:
        trial = subprocess.run([*SYSTEMD_RUN, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if trial.returncode != 0:
        return None
    return [*SYSTEMD_RUN, sys.executable, "-m", "autograder", *argv]
