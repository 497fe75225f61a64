"""The child's seccomp filter: the system calls that would leave state behind the child, refused.

Every child runs in its own mount, PID, network, UTS and IPC namespaces, so its files in /tmp, its SysV
and POSIX IPC objects, its abstract sockets and its signals end with it. The kernel keyring does not:
keys belong to a user (in root mode every child is the same host user, nobody), so one submission's key
would be read by a later one, a channel between classmates. Refused here, through libseccomp (the
pyseccomp binding), with EPERM, for the child and everything it starts; a filter cannot be removed:
  - keyrings: add_key, request_key, keyctl;
  - SysV and POSIX IPC (already per namespace; refused too where there is none, the weak mode);
  - reaching into other processes or the kernel: ptrace, process_vm_readv/writev, bpf,
    perf_event_open, userfaultfd, io_uring, and new or other namespaces (unshare, setns), mounts;
  - signalling another child through a file both roots bind (the interpreter's and torch's files): a lock
    is seen by every process that opens the file (flock, and fcntl's record, open-file-description and
    lease locks, F_GETLK included), and so are watches of who reads it (inotify, fanotify, fcntl's
    F_NOTIFY). Children graded at once on one machine could pass messages through them, bit by bit.
"""
from __future__ import annotations

import errno

import pyseccomp  # loads libseccomp when the zygote imports this module, outside the child's root

LASTING_STATE = (
    "add_key", "request_key", "keyctl",
    "shmget", "shmat", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
)
OTHER_PROCESSES_AND_KERNEL = (
    "ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "unshare", "setns", "mount", "umount2", "pivot_root",
    "chroot", "fsopen", "fsmount", "move_mount", "open_tree",
)
SHARED_FILE_SIGNALS = ("flock", "inotify_init", "inotify_init1", "inotify_add_watch", "fanotify_init", "fanotify_mark")
DENIED = LASTING_STATE + OTHER_PROCESSES_AND_KERNEL + SHARED_FILE_SIGNALS
# fcntl's commands that lock a file or watch it (F_GETLK, F_SETLK, F_SETLKW, their F_OFD_ forms, F_SETLEASE,
# F_GETLEASE, F_NOTIFY); fcntl's other commands (descriptor flags, F_DUPFD, ...) stay allowed.
FCNTL_SIGNALS = (5, 6, 7, 36, 37, 38, 1024, 1025, 1026)


def deny_lasting_state() -> None:
    """Load the filter into this process (inherited by every thread and process it starts from now on)."""
    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in DENIED:
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    for command in FCNTL_SIGNALS:
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), "fcntl", pyseccomp.Arg(1, pyseccomp.EQ, command))
    rules.load()
