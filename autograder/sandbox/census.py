"""The launcher's own count of what student code left running when a probe ends, read from the kernel.

The guard (guard.py) counts threads and processes from inside the child, where student code can switch it
off (`recorder._guard = None`, a Guard.heal or Guard.left_running replaced). So the launcher, outside the
child's process, looks again at every probe's END and voids the probe itself when anything is alive beside
the sandbox's own tasks, with the recorder's words (recorder.LEFT_RUNNING):

  the sandbox's own  the child's main thread, and with namespaces the zygote's fork that made the PID
                     namespace and waits for its first process (which is the child); one thread each. An
                     honest child starts none: measured at every probe's END of both assignments' solutions.
  beside them        any further thread of those two; any other live process of the child's tree (children
                     read from /proc/<pid>/task/<tid>/children, orphans included, since the child is the PID
                     namespace's init) or of its cgroups (which also hold a daemon that left the tree where
                     there is no PID namespace). Zombies run nothing and are not counted. Without namespaces
                     and cgroups a daemon that starts a new session escapes the count: that mode is weak.

The race, and how it is closed:
  - The child waits for the launcher's acknowledgement of a probe's END (one byte back on the channel's
    socket) before it runs anything more. Otherwise the look would fall wherever the child had got to: a
    DataLoader's workers of the next probe would void this one, and a thread could start right after the look.
  - While it looks, the launcher holds the whole tree with SIGSTOP, SIGCONT after (then the acknowledgement).
    Student code need not play along with the wait: once a stop is pending for a process, the kernel refuses
    its fork and clone (copy_process fails while a signal is pending), so listing the tree, stopping what is
    new and listing again until nothing new appears ends with every process held and every thread counted.
    A child that skips the wait only has its next probe's threads counted against the probe that ended.
    SIGSTOP rather than the cgroup freezer: it works in every mode, with or without a cgroup, and the
    launcher's signal reaches the namespace's init (which cannot stop itself: the kernel drops SIGSTOP sent
    to a PID namespace's init from inside it).
  - What no look at END sees: a thread that student code ended before END was sent. With the guard switched
    off, such a thread acts only until the grader's next record or END; records already sent are beyond it.
"""
from __future__ import annotations

import os
import signal
from typing import Callable, Iterable

from .guard import running_phrase


def left_running(root: int, namespaced: bool, cgroup_pids: Callable[[], Iterable[int]]) -> str:
    """What runs in the tree of the child `root` beside the sandbox's own tasks ("1 thread", "2 processes"), or
    "": counted with the tree stopped. namespaced: root is the PID namespace's parent and its only child is the
    child; else root is the child. cgroup_pids: the processes of the child's cgroups, read again each round."""
    held: set[int] = set()
    try:
        while True:
            new = (_tree(root) | set(cgroup_pids())) - held
            if not new:
                break
            for pid in new:
                _signal(pid, signal.SIGSTOP)
            held |= new
        main = min(_children(root), default=None) if namespaced else root
        own = {root, main} - {None}
        threads = sum(max(_count(f"/proc/{pid}/task") - 1, 0) for pid in own)
        processes = sum(1 for pid in held - own if _alive(pid))
        return running_phrase(threads, processes)
    finally:
        for pid in held:
            _signal(pid, signal.SIGCONT)


def _tree(root: int) -> set[int]:
    """root and its descendants, as the kernel lists each thread's children."""
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += _children(pid)
    return found


def _children(pid: int) -> list[int]:
    """The processes whose parent is one of pid's threads."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as listing:
                found += [int(child) for child in listing.read().split()]
        except (OSError, ValueError):
            continue
    return found


def _count(folder: str) -> int:
    try:
        return len(os.listdir(folder))
    except OSError:
        return 0


def _alive(pid: int) -> bool:
    """Whether pid exists and is not a zombie (the state after the command's closing parenthesis)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[-1].split()[:1]
    except OSError:
        return False
    return state not in ([b"Z"], [b"X"], [])


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
