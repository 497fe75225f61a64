"""The child process: isolate itself, run the student's cells, run the grader's probes.

Run by a fork of the zygote (zygote.py) inside its new namespaces, never by the trusted
side. Everything it tells the launcher travels on one pipe, as frames (see `Channel`):
"BEGIN cell:3", "FILE cell-3.json <n bytes>", "END cell:3". The launcher times each phase,
names the one that overran or crashed, and writes the evidence files itself: the child
holds no descriptor of any folder the trusted process reads.
"""
from __future__ import annotations

import ctypes
import importlib
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
MNT_DETACH = 2
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
# Per-mount flags the kernel locks in a user namespace: a remount must repeat them.
MOUNT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
               "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME,
               "strictatime": MS_STRICTATIME}
STUDENT_OUTPUT_LIMIT = 64 * 1024
# What the child needs of the project; everything else there is hidden from student code.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
    """The one pipe to the launcher. Frames: 'BEGIN phase\\n', 'END phase\\n', 'FILE name n\\n' + n bytes.

    Only the process that started the child may write: a forked copy of it (student code
    called os.fork and returned) stops at its first frame instead of speaking for the grader.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pid = os.getpid()
        self._write = os.write  # held here: student code replacing os.write does not reach it
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


def mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    """mount(2); OSError naming the target."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                  data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _mounts() -> list[tuple[str, int]]:
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


def _umount(target: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(target.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"umount {target}: {os.strerror(err)}")


def runtime_paths() -> list[Path]:
    """What the interpreter needs after the child drops to nobody: its prefixes, sys.path, the executable."""
    found = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
             Path(os.path.realpath(sys.executable)).parent, PROJECT_ROOT / "autograder"]
    found += [Path(entry) for entry in sys.path if entry and os.path.isabs(entry)]
    return [p.resolve() for p in found if p.exists()]


def _expose_runtime(paths: list[Path]) -> None:
    """Make the interpreter's files reachable for nobody where an ancestor folder is private.

    E.g. a Python under /root/.pyenv (/root is 0700): /root is covered by an empty tmpfs
    (mode 0755, so the rest of /root disappears too) and /root/.pyenv is bound back in place.
    """
    groups: dict[Path, set[Path]] = {}
    for path in paths:
        blocked = next((a for a in reversed(path.parents) if not a.stat().st_mode & 0o001), None)
        if blocked is not None:
            groups.setdefault(blocked, set()).add(path)
    for n, (top, inside) in enumerate(sorted(groups.items())):
        keep = [p for p in sorted(inside) if not any(q != p and q in p.parents for q in inside)]
        aside = []
        for i, path in enumerate(keep):
            spot = Path(f"/tmp/.tensorgrade-keep-{n}-{i}")
            spot.mkdir() if path.is_dir() else spot.touch()
            mount(str(path), str(spot), "", MS_BIND | MS_REC, "")
            aside.append((path, spot))
        mount("tmpfs", str(top), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for path, spot in aside:
            target = top / path.relative_to(top)
            if spot.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
            mount(str(spot), str(target), "", MS_BIND | MS_REC, "")
            _umount(str(spot))
            spot.rmdir() if spot.is_dir() else spot.unlink()


def _hold(paths: list[Path], folder: Path) -> list[tuple[Path, int]]:
    """Descriptors of the outermost `paths` inside `folder`, which a tmpfs is about to cover
    (a project or virtualenv under /tmp: the interpreter still imports from it)."""
    inside = [p for p in paths if folder in p.parents]
    outermost = sorted({p for p in inside if not any(q in p.parents for q in inside)})
    return [(p, os.open(p, os.O_PATH)) for p in outermost]


def _put_back(kept: list[tuple[Path, int]]) -> None:
    """Bind what _hold kept at its old place in the new tmpfs (read-only later, like the rest)."""
    for path, fd in kept:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        mount(f"/proc/self/fd/{fd}", str(path), "", MS_BIND | MS_REC, "")
        os.close(fd)


def project_extras(project: Path = PROJECT_ROOT) -> list[str]:
    """Project files student code must not read: all but the grader's runtime (and not its suites)."""
    needed = {project / "autograder", Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    extras = []
    try:
        entries = list(project.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not any(entry == n or entry in n.parents for n in needed):
            extras.append(str(entry))
    extras.append(str(project / "autograder" / "suites"))
    return extras


NOBODY = 65534
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000


def _drop_privileges() -> None:
    """Mode "root": become nobody, with no capabilities and no way back (setuid binaries ignored)."""
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    _no_new_privs()


def _no_new_privs() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")


def _lock_mounts() -> None:
    """Mode "user": enter a nested user and mount namespace, which locks every mount made so far
    (hiding mounts cannot be unmounted, read-only ones cannot be made writable again)."""
    uid, gid = os.getuid(), os.getgid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER | CLONE_NEWNS)")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _no_new_privs()


def _remount_read_only(skip: set[str]) -> None:
    for point, flags in _mounts():
        if point in skip or flags & MS_RDONLY or not os.path.lexists(point):
            continue  # (a mount point that no longer exists is covered by a later mount)
        mount("", point, "", MS_REMOUNT | MS_BIND | MS_RDONLY | flags, "")


def isolate(spec: dict) -> None:
    """Inside the new namespaces: private size-limited /tmp and /dev/shm, hidden paths, a read-only
    file system everywhere else, then no privileges left to undo any of it; no IP sockets.

    spec["namespaced"]: "root" (the grader runs as root: mount, pid and net namespaces, then the
    child becomes nobody), "user" (an unprivileged grader: a user namespace too, its mounts locked
    by a nested one), or "" (no namespaces: rlimits and the audit hook only).
    """
    mode = spec["namespaced"]
    if mode:
        needed = runtime_paths()
        tmp = f"size={spec['tmp_mb']}m,mode=1777"
        for private in ("/tmp", "/dev/shm"):
            if os.path.isdir(private):
                kept = _hold(needed, Path(private))
                mount("tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, tmp)
                _put_back(kept)
        if mode == "root":
            _expose_runtime(needed)
        for path in sorted(set(spec["hidden"]) | set(project_extras())):
            if os.path.islink(path) or any(n == Path(path) or Path(path) in n.parents for n in needed):
                continue
            if os.path.isdir(path):
                mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
            elif os.path.exists(path):
                mount("/dev/null", path, "", MS_BIND, "")
        # Everything but the private tmpfs mounts becomes read-only: the host's files, the
        # project's code and the cgroup files stay out of reach even for "root" in here.
        # In mode "user", /proc stays writable: the nested namespace's uid_map is written there,
        # and its owner cannot remount it afterwards (the host's permissions of the unprivileged
        # grader's user still apply to it).
        writable = {"/tmp", "/dev/shm"} | ({"/proc"} if mode == "user" else set())
        _remount_read_only(skip=writable)
    work = Path("/tmp" if mode else spec["workdir"]) / "student"
    work.mkdir(exist_ok=True)
    if mode == "root" or (not mode and os.geteuid() == 0):
        if not mode:  # no namespaces: nobody must reach its folder inside the grader's work folder
            os.chmod(spec["workdir"], 0o711)
        os.chown(work, NOBODY, NOBODY)
        _drop_privileges()
    elif mode == "user":
        _lock_mounts()
    os.chdir(work)
    os.environ.update(TMPDIR=str(work), HOME=str(work))

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
            self.channel.line("BEGIN", f"cell:{index}")
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
            self.channel.line("END", f"cell:{index}")

    def run_probes(self, probes: dict, inputs: dict, recorder_class, torch) -> None:
        """Run each requested probe on the grader's inputs and send its evidence."""
        for name in self.spec["probes"]:
            self.guard.heal()
            self.channel.line("BEGIN", f"probe:{name}")
            torch.manual_seed(self.spec["seed"])
            recorder = recorder_class(name, self.guard)
            output = _CappedOutput()
            sys.stdout = sys.stderr = output
            try:
                probes[name](self.ns, inputs, recorder)
            except BaseException as err:  # noqa: BLE001 - the probe ends, the evidence so far stays
                recorder.failure("_probe", err)
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                self.guard.heal()
            recorder.save(self.channel)
            self.channel.line("END", f"probe:{name}")


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

    from .guard import Guard
    from .recorder import Recorder, student_error

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    inputs = load_file(spec["inputs"])
    probes = importlib.import_module(f"autograder.probes.{spec['assignment']}").PROBES
    isolate(spec)
    guard = Guard(hide_grader_modules().values())
    child = Child(spec, channel, guard)
    _seed_everything(spec["seed"], torch)
    child.run_cells(student_error)
    child.run_probes(probes, inputs, Recorder, torch)
    # Skip interpreter shutdown: student atexit handlers and finalizers must not keep us alive.
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - student code may have closed them
            pass
    os._exit(0)
