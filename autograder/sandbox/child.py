"""The child process: isolate itself, run the student's cells, run the grader's probes.

Run as `python -I -m autograder.sandbox.child SPEC.json` by the launcher, never imported
by the trusted side. It reports progress as lines on the status pipe ("BEGIN cell:3",
"END probe:test_normalize") so the launcher can time each phase and name the one that
overran or crashed.
"""
from __future__ import annotations

import ctypes
import importlib
import io
import json
import os
import sys
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND = 1, 2, 4, 4096
STUDENT_OUTPUT_LIMIT = 64 * 1024


class _CappedOutput(io.TextIOBase):
    """Student prints go here: the first 64 KiB are kept, the rest is counted and dropped."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.size < STUDENT_OUTPUT_LIMIT:
            self.kept.append(text[: STUDENT_OUTPUT_LIMIT - self.size])
        self.size += len(text)
        return len(text)


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def isolate(spec: dict) -> None:
    """Inside the new namespaces: a private size-limited /tmp, hidden paths, no IP sockets."""
    if spec["namespaced"]:
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['tmp_mb']}m,mode=1777")
        for path in spec["hidden"]:
            if os.path.isdir(path):
                _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
            elif os.path.exists(path):
                _mount("/dev/null", path, "", MS_BIND, "")
    work = Path("/tmp" if spec["namespaced"] else spec["workdir"]) / "student"
    work.mkdir(exist_ok=True)
    os.chdir(work)
    os.environ.update(TMPDIR=str(work), HOME=str(work))

    def no_network(event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo"):
            address = args[1] if len(args) > 1 else None
            if event == "socket.getaddrinfo" or isinstance(address, tuple):
                raise PermissionError("network access is disabled while grading")

    sys.addaudithook(no_network)


class Child:
    """One run of the child: the namespace of the student's notebook and the evidence folder."""

    def __init__(self, spec: dict, status_fd: int, evidence_fd: int) -> None:
        self.spec = spec
        self.status = os.fdopen(status_fd, "w", buffering=1)
        self.evidence_fd = evidence_fd
        self.ns: dict = {"__name__": "__main__", "__builtins__": __builtins__}

    def report(self, word: str, phase: str) -> None:
        """Tell the launcher a phase begins or ends."""
        self.status.write(f"{word} {phase}\n")
        self.status.flush()

    def write_json(self, name: str, data: dict) -> None:
        """Write a small JSON file into the evidence folder."""
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=self.evidence_fd)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)

    def run_cells(self) -> None:
        """Execute each cell (setup cells from the release, then the student's), one at a time."""
        from .recorder import student_error

        for cell in self.spec["cells"]:
            index = cell["index"]
            if index in self.spec["skip_cells"]:
                continue
            self.report("BEGIN", f"cell:{index}")
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
            result["printed"] = output.size
            self.write_json(f"cell-{index}.json", result)
            self.report("END", f"cell:{index}")

    def run_probes(self, probes: dict, inputs: dict) -> None:
        """Run each requested probe on the grader's inputs and save its evidence."""
        import torch

        from .recorder import Recorder

        for name in self.spec["probes"]:
            self.report("BEGIN", f"probe:{name}")
            torch.manual_seed(self.spec["seed"])
            recorder = Recorder(name)
            output = _CappedOutput()
            sys.stdout = sys.stderr = output
            try:
                probes[name](self.ns, inputs, recorder)
            except BaseException as err:  # noqa: BLE001 - the probe ends, the evidence so far stays
                recorder.failure("_probe", err)
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            recorder.save(self.evidence_fd)
            self.report("END", f"probe:{name}")


def main(spec_path: str) -> None:
    """Entry point of the child process."""
    spec = json.loads(Path(spec_path).read_text())
    evidence_fd = os.open(spec["evidence_dir"], os.O_RDONLY | os.O_DIRECTORY)
    import torch
    from safetensors.torch import load_file

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    inputs = load_file(spec["inputs"])
    probes = importlib.import_module(f"autograder.probes.{spec['assignment']}").PROBES
    isolate(spec)
    child = Child(spec, spec["status_fd"], evidence_fd)
    child.run_cells()
    child.run_probes(probes, inputs)


if __name__ == "__main__":
    main(sys.argv[1])
