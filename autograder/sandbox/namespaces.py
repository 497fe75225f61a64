"""Namespaces, mounts and the child's root file system: the one module that calls unshare, mount and pivot_root.

The child's view of the machine is an allow-list. The namespace's PID 1 builds a root for it
on a tmpfs, then makes it its `/` with pivot_root(2) and detaches the host's:

  interpreter   the Python prefixes and every sys.path entry, read-only, at their own paths;
  system        /usr and the /bin, /sbin, /lib* folders (or the merged-usr symlinks), read-only;
  /etc          generated: passwd and group (root, nobody), hosts, nsswitch.conf, plus ld.so.cache
                and localtime from the host;
  grader        the files `assignments.child_may_read` admits, one bind each (never a trusted/ folder);
  work folder   /tmp/student, with the assignment's released files (not its notebook) read-only;
  /dev          null, zero, full, random, urandom and the fd symlinks; no terminal;
  /proc         fresh, of the child's own PID namespace;
  /tmp, /dev/shm private tmpfs of TMP_LIMIT_MB each.

Nothing else of the host exists there: no other checkout, home folder, /srv, /opt, /var or mount.
Everything but /tmp and /dev/shm is then read-only.
"""
from __future__ import annotations

import ctypes
import functools
import operator
import os
import platform
import re
import select
import signal
import sys
from pathlib import Path

from ..assignments import child_may_read
from ..paths import PROJECT_ROOT

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
# The namespaces every child gets, as unshare(2) flags and as util-linux unshare(1) options (which
# limits.isolation_mode probes with); mode "user" adds a user namespace mapping the grader's user to root.
NAMESPACES = {CLONE_NEWNS: "--mount", CLONE_NEWPID: "--pid", CLONE_NEWNET: "--net", CLONE_NEWUTS: "--uts",
              CLONE_NEWIPC: "--ipc"}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
MS_NOATIME, MS_NODIRATIME, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 18, 1 << 21, 1 << 24
MNT_DETACH = 2
# Per-mount flags the kernel locks in a user namespace: a remount must repeat them.
MOUNT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
               "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME,
               "strictatime": MS_STRICTATIME}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}
NOBODY = 65534
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
ROOT_TMPFS = "size=16m,mode=0755"
WORK = "/tmp/student"  # the child's working folder (and HOME, TMPDIR)


# PID 1's end of a pipe whose other end its parent holds (enter_namespaces): end of file once the parent is gone.
_lifeline: int | None = None

def libc_call(name: str, *args) -> None:
    """Call libc's `name`; OSError naming it (and the strerror) when it fails."""
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    """mount(2); OSError naming the target."""
    try:
        libc_call("mount", source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                  data.encode() if data else None)
    except OSError as err:
        raise OSError(err.errno, f"mount {target}: {os.strerror(err.errno)}") from None


def _pivot_root(new_root: str, put_old: str) -> None:
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    libc_call("syscall", number, new_root.encode(), put_old.encode())


def mounts() -> list[tuple[str, int]]:
    """Every mount point of this mount namespace with its per-mount flags, from /proc/self/mountinfo."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040: a space
        flags = 0
        for option in fields[5].split(","):
            flags |= MOUNT_FLAGS.get(option, 0)
        found.append((point, flags))
    return found


# ------------------------------------------------------------------ namespaces (the zygote's fork)

def unshare_options(mode: str) -> list[str]:
    """What enter_namespaces(mode) does, as options of util-linux unshare(1)."""
    user = ["--user", "--map-root-user"] if mode == "user" else []
    return [*user, *NAMESPACES.values(), "--fork", "--kill-child", "--mount-proc"]


def enter_namespaces(mode: str) -> None:
    """New mount, PID, network, UTS and IPC namespaces (and a user one in mode "user").

    As `unshare --fork --kill-child --mount-proc`: this process forks the namespace's first
    process (PID 1), waits for it and exits with its status; only PID 1 returns, and it dies
    with its parent. Mode "": no namespaces (rlimits and cgroups only).
    """
    if not mode:
        return
    uid, gid = os.getuid(), os.getgid()
    flags = functools.reduce(operator.or_, NAMESPACES)
    libc_call("unshare", flags | (CLONE_NEWUSER if mode == "user" else 0))
    if mode == "user":  # --map-root-user
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    global _lifeline
    lifeline, held = os.pipe()  # the parent holds the write end open for as long as it lives
    first = os.fork()
    if first:
        os.close(lifeline)
        _, status = os.waitpid(first, 0)
        if os.WIFSIGNALED(status):  # die the same way, so the launcher can name the signal
            sig = os.WTERMSIG(status)
            if sig not in (signal.SIGKILL, signal.SIGSTOP):  # the two whose handling cannot be set (or changed)
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    # (getppid() is 0 from here on: the parent lives outside this PID namespace. Should it die
    # before this line, the launcher's kill of the session and the cgroups still reaches us.)
    os.close(held)
    _lifeline = lifeline
    libc_call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    mount("none", "/", "", MS_REC | MS_PRIVATE, "")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "")


# ------------------------------------------------------------------ what the child's root holds

def grader_files(project: Path = PROJECT_ROOT) -> list[Path]:
    """The project's files bound into the child's root, each by itself: those the one rule of the kit's child
    side allows (autograder.assignments.child_may_read: the sandbox, and each assignment's child/ folder;
    never the trusted side's modules, an assignment's trusted/ folder, solutions, notebooks or tests)."""
    package = project / "autograder"
    found = [p for p in package.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(p for p in found if child_may_read(p.relative_to(project).as_posix()))


def runtime_paths(project: Path = PROJECT_ROOT) -> list[str]:
    """Folders the interpreter needs, as it names them: its prefixes, sys.path, the system's libraries.

    The project's own folder is never among them (nor any folder that holds it): its files come
    one by one through `assignments.child_may_read`; a virtualenv inside it is a folder of its own.
    """
    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), *SYSTEM_PATHS]
    found += [entry for entry in sys.path if entry and os.path.isabs(entry)]
    project = project.resolve()
    kept = []
    for entry in dict.fromkeys(os.path.normpath(p) for p in found):
        if not os.path.lexists(entry):
            continue
        real = Path(os.path.realpath(entry))
        if real == project or real in project.parents or real == Path("/"):
            continue
        kept.append(entry)
    return kept


def released_files(release: Path) -> list[Path]:
    """The assignment's released code the child's work folder holds: its Python files (course_data.py),
    never its notebooks or data shipped beside them."""
    if not release.is_dir():
        return []
    return sorted(p for p in release.iterdir() if p.is_file() and p.suffix == ".py")


def dataset_folders(folders: list[str]) -> list[str]:
    """Of `folders` (an assignment's data: its host_folders hook), those that exist, resolved: the child must
    not read them even where an allowed folder holds them (the trusted side evaluates on them)."""
    return [os.path.realpath(f) for f in dict.fromkeys(folders) if os.path.isdir(f)]


def _symlinks_on_the_way(path: str) -> tuple[list[tuple[str, str]], str]:
    """The host's symlinks met on the way to `path` (where, what they say), and its real path."""
    links: list[tuple[str, str]] = []
    current, parts, hops = "/", list(Path(path).parts[1:]), 0
    while parts:
        candidate = os.path.join(current, parts.pop(0))
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise OSError(40, f"too many symbolic links on the way to {path}")
            text = os.readlink(candidate)
            links.append((candidate, text))
            target = os.path.normpath(text if os.path.isabs(text) else os.path.join(current, text))
            current, parts = "/", list(Path(target).parts[1:]) + parts
        else:
            current = candidate
    return links, current


def _inside(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def _mount_point(target: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            with open(target, "w"):
                pass


def _bind(source: str, new_root: str, at: str | None = None, recursive: bool = True) -> None:
    target = new_root + (at or source)
    _mount_point(target, os.path.isdir(source))
    mount(source, target, "", MS_BIND | (MS_REC if recursive else 0), "")


def _write_etc(new_root: str) -> None:
    etc = new_root + "/etc"
    os.makedirs(etc, mode=0o755, exist_ok=True)
    files = {
        "passwd": f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                  f"nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:/usr/sbin/nologin\n",
        "group": f"root:x:0:\nnogroup:x:{NOBODY}:\n",
        "hosts": "127.0.0.1 localhost\n::1 localhost\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    }
    for name, text in files.items():
        Path(etc, name).write_text(text)
    if os.path.isfile("/etc/ld.so.cache"):
        _bind("/etc/ld.so.cache", new_root, recursive=False)
    if os.path.islink("/etc/localtime"):
        os.symlink(os.readlink("/etc/localtime"), etc + "/localtime")
    elif os.path.isfile("/etc/localtime"):
        _bind("/etc/localtime", new_root, recursive=False)


def _make_dev(new_root: str, tmp: str) -> None:
    dev = new_root + "/dev"
    os.mkdir(dev)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(f"/dev/{name}", new_root, recursive=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(dev + "/shm")
    mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, tmp)


def build_root(new_root: str, tmp_mb: int, released: list[Path], masked: list[str] = (),
               project: Path = PROJECT_ROOT) -> None:
    """Fill `new_root` (an empty folder) with the child's root file system (see the module's docstring).

    masked: folders (from dataset_folders) covered by an empty read-only tmpfs wherever a bound
    folder holds them.
    """
    mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, ROOT_TMPFS)
    tmp = f"size={tmp_mb}m,mode=1777"
    os.mkdir(new_root + "/tmp")
    mount("tmpfs", new_root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp)
    os.mkdir(new_root + "/proc")
    mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "")
    _make_dev(new_root, tmp)
    _write_etc(new_root)
    # The runtime at the paths the interpreter knows it by: the host's symlinks on the way are
    # made again, each outermost real folder is bound once.
    links: dict[str, str] = {}
    folders: list[str] = []
    for path in runtime_paths(project):
        found, real = _symlinks_on_the_way(path)
        links.update(found)
        if os.path.exists(real):
            folders.append(real)
    outermost = [f for f in sorted(set(folders)) if not any(g != f and _inside(f, [g]) for g in folders)]
    for where, text in sorted(links.items()):
        if not _inside(where, outermost) and not os.path.lexists(new_root + where):
            os.makedirs(os.path.dirname(new_root + where), mode=0o755, exist_ok=True)
            os.symlink(text, new_root + where)
    for folder in outermost:
        _bind(folder, new_root)
    for path in grader_files(project):
        _bind(str(path), new_root, recursive=False)
    os.makedirs(new_root + WORK, mode=0o755, exist_ok=True)
    for path in released:
        _bind(str(path), new_root, at=f"{WORK}/{path.name}", recursive=False)
    for folder in masked:
        if os.path.isdir(new_root + folder):
            mount("tmpfs", new_root + folder, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")


def enter_root(new_root: str) -> None:
    """Make `new_root` this mount namespace's `/` and detach the host's old root from it."""
    os.chdir(new_root)
    _pivot_root(".", ".")  # the old root ends up stacked on top of the new one ...
    libc_call("umount2", b".", MNT_DETACH)  # ... where one lazy unmount takes it away
    os.chdir("/")


def remount_read_only(skip: set[str]) -> None:
    """Every mount but those in `skip` read-only (repeating the flags a user namespace locks)."""
    for point, flags in mounts():
        if point in skip or flags & MS_RDONLY or not os.path.lexists(point):
            continue  # (a mount point that no longer exists is covered by a later mount)
        mount("", point, "", MS_REMOUNT | MS_BIND | MS_RDONLY | flags, "")


# ------------------------------------------------------------------ privileges

def drop_privileges() -> None:
    """Mode "root": become nobody, with no capabilities and no way back (setuid binaries ignored)."""
    parent = os.getppid()
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    no_new_privs()
    _die_with_parent_again(parent)


def _die_with_parent_again(parent: int) -> None:
    """The kernel forgets PR_SET_PDEATHSIG when a process's credentials change (setresuid, a new user
    namespace): ask again, and end now if the parent died in between, so no child outlives a killed
    grader. `parent`: getppid() before the change; inside a PID namespace (where it reads 0) the
    lifeline pipe of enter_namespaces tells instead."""
    libc_call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if _lifeline is not None:
        gone, _, _ = select.select([_lifeline], [], [], 0)  # end of file: the write end's holder is gone
        os.close(_lifeline)
        if gone:
            os._exit(137)
    elif os.getppid() != parent:
        os._exit(137)


def no_new_privs() -> None:
    """prctl(PR_SET_NO_NEW_PRIVS): no exec can grant privileges again."""
    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def lock_mounts() -> None:
    """Mode "user": enter a nested user and mount namespace, which locks every mount made so far
    (mounts cannot be unmounted to reveal what is below, read-only ones cannot be made writable)."""
    uid, gid, parent = os.getuid(), os.getgid(), os.getppid()
    libc_call("unshare", CLONE_NEWUSER | CLONE_NEWNS)
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    no_new_privs()
    _die_with_parent_again(parent)
