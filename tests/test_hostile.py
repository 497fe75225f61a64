"""Hostile and broken submissions: nothing forged, nothing lost, nobody stuck (issue #6).

The whole corpus (tests/hostile/corpus.py) is graded in one batch, two sandboxes at a
time, like the batch command grades a class; each case is then checked against its rule.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograder import grading
from autograder.batch import grade_many
from autograder.expect import CheckFailed
from autograder.paths import PROJECT_ROOT
from autograder.process_memory import resident_mb
from autograder.results import GradeReport
from tests.helpers import solution, test_config, write
from tests.hostile.corpus import ALL, CASES, ORPHAN_MARKER, SECRET_NAME, SECRET_VALUE, Case
from tests.hostile.corpus import P1 as P1_ID
from tests.hostile.corpus import P2 as P2_ID

CONFIG = test_config()
CGROUPS = (Path("/sys/fs/cgroup/pids/tensorgrade"), Path("/sys/fs/cgroup/tensorgrade"),
           Path("/sys/fs/cgroup/unified/tensorgrade"))
# Fragments of the hidden suites and of the grader's internals that feedback must never show.
HIDDEN_CODE = ("Traceback", "def test_", "evidence.probe", "expect_close(", "expect_equal(", "expect(",
               "ref.", "solutions/", "autograder/", "site-packages", ".py\", line")


def _cgroups() -> set[Path]:
    found = set()
    for root in CGROUPS:
        if root.is_dir():
            found |= {p for p in root.iterdir() if p.is_dir()}
    memory = Path("/sys/fs/cgroup/memory")
    if memory.is_dir():
        found |= {p for p in memory.glob("**/tensorgrade/*") if p.is_dir()}  # cgroups, not their files
    return found


def _processes_matching(pattern: str) -> list[str]:
    done = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


class Batch:
    """Reports of a batch, what was left behind once it returned, and each job's peak of the grading process."""

    def __init__(self, reports: dict[str, GradeReport], seconds: float, leftovers: dict[str, list],
                 peaks: dict[str, float]):
        self.reports, self.seconds, self.leftovers, self.peaks = reports, seconds, leftovers, peaks


class _ResidentMemory:
    """The grading process's resident memory, sampled every 20 ms, and when each notebook was being graded:
    a job's peak is the largest sample while it ran (two jobs run at a time; their judging is serialized)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self.spans: dict[str, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.samples.append((time.monotonic(), resident_mb("VmRSS") or 0.0))

    def grade(self, real):
        def timed(notebook, *args, **kwargs):
            started = time.monotonic()
            try:
                return real(notebook, *args, **kwargs)
            finally:
                self.spans[str(notebook)] = (started, time.monotonic())
        return timed

    def __enter__(self) -> "_ResidentMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, notebook: Path) -> float:
        start, end = self.spans.get(str(notebook), (0.0, 0.0))
        return max((mb for at, mb in self.samples if start <= at <= end), default=0.0)


def _grade(jobs: list[tuple[str, Path, str]], scratch: Path) -> Batch:
    """Grade (id, path, assignment) jobs with grade_many, 2 workers, with a private temp folder."""
    before_cgroups = _cgroups()
    saved_tempdir = tempfile.tempdir
    tempdir = scratch / "tmp"
    tempdir.mkdir()
    os.environ[SECRET_NAME] = SECRET_VALUE
    tempfile.tempdir = str(tempdir)  # the grader's work folders (tensorgrade-*) go here
    started = time.monotonic()
    real = grading.grade_notebook
    try:
        with _ResidentMemory() as memory:
            grading.grade_notebook = memory.grade(real)  # what grade_many calls, timed
            reports = grade_many([(path, assignment) for _, path, assignment in jobs], CONFIG, workers=2)
    finally:
        grading.grade_notebook = real
        tempfile.tempdir = saved_tempdir
        os.environ.pop(SECRET_NAME, None)
    seconds = time.monotonic() - started
    leftovers: dict[str, list] = {}
    deadline = time.monotonic() + 5  # processes killed a moment ago may still be exiting
    while True:
        leftovers = {
            "processes": _processes_matching(ORPHAN_MARKER) + _processes_matching(str(tempdir)),
            "temp dirs": sorted(str(p) for p in tempdir.glob("tensorgrade-*")),
            "cgroups": sorted(str(p) for p in _cgroups() - before_cgroups
                              if not (p / "cgroup.procs").read_text().strip()),
        }
        if not any(leftovers.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return Batch({job_id: r for (job_id, _, _), r in zip(jobs, reports)}, seconds, leftovers,
                 {job_id: memory.peak(path) for job_id, path, _ in jobs})


# Each case's trusted process (its peak memory, its wall time) against the correct notebooks', graded in the
# same batch: whatever a submission sends, the grading process's peak while it is graded (_ResidentMemory)
# stays within PEAK_MARGIN_MB of the larger of theirs (the process's caches grow by about 150 MB over the
# batch), and grading ends within the submission budget plus GRADING_MARGIN_S (reading, preparing and
# judging; the sandbox itself stops at the budget).
PEAK_MARGIN_MB = 500
GRADING_MARGIN_S = 60
CORRECT = "correct:"


def _selected_cases(session: pytest.Session) -> list[Case]:
    """The cases whose honest-grading test this session runs (pytest -k picks some), or every case if it runs
    none of them (the leftovers test alone): the batch grades only what is asked."""
    chosen = {item.callspec.params["case"].id for item in session.items
              if getattr(item, "originalname", "") == "test_hostile_submission_is_graded_honestly"}
    return [case for case in CASES if case.id in chosen] or CASES


@pytest.fixture(scope="module")
def corpus(request, tmp_path_factory) -> Batch:
    folder = tmp_path_factory.mktemp("hostile")
    jobs = [(CORRECT + a, write(solution(a), folder / "correct" / f"{a}.ipynb"), a) for a in (P1_ID, P2_ID)]
    for case in _selected_cases(request.session):
        # Each notebook in a folder of its own, as nbgrader's submitted/<student>/<assignment>/.
        path = write(case.build(), folder / case.id / f"{case.assignment}.ipynb")
        jobs.append((case.id, path, case.assignment))
    batch = _grade(jobs, folder)
    (folder / "report.md").write_text(_table(batch))  # for the closing note: every case, honest vs actual
    return batch


def _table(batch: Batch) -> str:
    """A markdown row per case: its honest (auto-graded) score, the score it got, and its first message."""
    rows = ["| case | assignment | honest score | actual score | seconds | grader peak MB | what the student reads |",
            "|---|---|---|---|---|---|---|"]
    for case in CASES:
        if case.id not in batch.reports:
            continue
        report = batch.reports[case.id]
        zeroed = _zeroed(case, report)
        honest = sum(c.max_score for c in report.checks if c.name not in zeroed)
        failed = [c for c in report.checks if not c.passed]
        said = (report.submission_notes[0] if report.submission_notes else failed[0].output if failed else "full marks")
        said = said.replace("|", "/").replace("\n", " ")[:160]
        rows.append(f"| {case.id} | {case.assignment} | {honest:g} | {report.score:g} | "
                    f"{report.execution_time:.0f} | {batch.peaks[case.id]:.0f} | {said} |")
    return "\n".join(rows) + "\n"


# A check's feedback is a few sentences; whatever the child sent, it never runs to pages.
MAX_FEEDBACK = 4000


def _zeroed(case: Case, report: GradeReport) -> set[str]:
    if ALL in case.zero:
        return {c.name for c in report.checks}
    unknown = case.zero - {c.name for c in report.checks} - {c.grade_id for c in report.checks}
    assert not unknown, f"{case.id}: no check or grade id {unknown}"
    return {c.name for c in report.checks if c.name in case.zero or c.grade_id in case.zero}


def test_the_corpus_has_at_least_30_distinct_cases():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(c, marks=[pytest.mark.xfail(strict=True, reason=f"known open: {c.open}")]
                                               if c.open else []) for c in CASES], ids=[c.id for c in CASES])
def test_hostile_submission_is_graded_honestly(corpus, case):
    report = corpus.reports[case.id]
    zeroed = _zeroed(case, report)
    notes = "\n".join(report.submission_notes)  # said once for the submission (an unreadable file: why)
    problems = []
    for check in report.checks:
        feedback = f"{check.output}\n{notes}"
        if check.name in zeroed:
            if check.score != 0:
                problems.append(f"{check.name}: forged {check.score:g} points (honest score 0): {check.output}")
            expected = case.messages.get(check.name) or case.messages.get(check.grade_id) or case.message
            if expected and expected not in feedback:
                problems.append(f"{check.name}: feedback lacks {expected!r}: {feedback!r}")
        elif check.score != check.max_score:
            problems.append(f"{check.name}: lost {check.max_score - check.score:g} honest points: {check.output}")
        if len(check.output) > MAX_FEEDBACK:
            problems.append(f"{check.name}: {len(check.output)} characters of feedback: {check.output[:200]!r}")
        for fragment in HIDDEN_CODE:
            if fragment in check.output:
                problems.append(f"{check.name}: feedback shows grader code ({fragment!r}): {check.output!r}")
    if any(ch in report.log_tail for ch in "\x1b\x07\x9b"):
        problems.append(f"the log tail holds terminal escapes: {report.log_tail[-200:]!r}")
    if case.note and case.note not in notes:
        problems.append(f"notes lack {case.note!r}: {report.notes}")
    for note in report.notes:
        if "Traceback" in note:
            problems.append(f"a note shows a traceback: {note!r}")
    if case.max_seconds is not None and report.execution_time > case.max_seconds:
        problems.append(f"grading took {report.execution_time:.0f} s, over {case.max_seconds:g} s")
    budget = CONFIG.submission_time_limit_s + GRADING_MARGIN_S
    if report.execution_time > budget:
        problems.append(f"grading took {report.execution_time:.0f} s, over the budget plus margin ({budget:g} s)")
    correct = max(corpus.peaks[CORRECT + a] for a in (P1_ID, P2_ID))
    if corpus.peaks[case.id] > correct + PEAK_MARGIN_MB:
        problems.append(f"the grading process peaked at {corpus.peaks[case.id]:.0f} MB, correct notebooks' at "
                        f"{correct:.0f} MB (margin {PEAK_MARGIN_MB} MB)")
    assert not problems, f"{case.id} ({case.why or 'see corpus'}):\n  " + "\n  ".join(problems)


@pytest.mark.slow
def test_no_process_temp_dir_or_cgroup_outlives_the_corpus(corpus):
    assert corpus.leftovers == {"processes": [], "temp dirs": [], "cgroups": []}


@pytest.mark.slow
def test_a_class_with_hostile_submissions_mixed_in_is_graded(tmp_path):
    """20 submissions: correct notebooks among hostile ones; the batch finishes, the good ones get full marks."""
    hostile = {c.id: c for c in CASES}
    mix = ["fork_bomb", "infinite_loop_top_level", "os_exit_top_level", "allocate_50gb_torch", "orphan_processes",
           "kill_the_grader", "resets_the_grader_clock", "print_1gb", "not_json", "segfault_in_function"]
    jobs = []
    for i in range(20):
        if i % 2:
            case = hostile[mix[i // 2]]
            jobs.append((case.id, write(case.build(), tmp_path / f"s{i:02d}" / "nb.ipynb"), case.assignment))
        else:
            assignment = ("part1_regression", "part2_mnist")[i // 2 % 2]
            jobs.append((f"good{i}", write(solution(assignment), tmp_path / f"s{i:02d}" / "nb.ipynb"), assignment))
    batch = _grade(jobs, tmp_path)
    for job_id, report in batch.reports.items():
        if job_id.startswith("good"):
            assert [c.name for c in report.checks if not c.passed] == [], job_id
        else:
            case = hostile[job_id]
            zeroed = _zeroed(case, report)
            assert all(c.score == 0 for c in report.checks if c.name in zeroed), job_id
            assert all(c.passed for c in report.checks if c.name not in zeroed), job_id
    assert batch.leftovers == {"processes": [], "temp dirs": [], "cgroups": []}
    assert batch.seconds < 20 * CONFIG.submission_time_limit_s / 2


# ------------------------------------------------------------------ fast checks of the pieces

def _protocol(tmp_path: Path, expected=("cell:1", "probe:test_model")):
    """The launcher's parser of the child's frames, its count at each probe's END finding nothing running."""
    from autograder.sandbox.launcher import _Evidence, _Protocol

    return _Protocol(set(expected), _Evidence(tmp_path), lambda phase: "")


def _frame(name: str, blob: bytes) -> bytes:
    return f"FILE {name} {len(blob)}\n".encode() + blob


def test_the_result_channel_accepts_one_file_per_name_inside_its_phase(tmp_path):
    protocol = _protocol(tmp_path)
    stream = (b"BEGIN cell:1\n" + _frame("cell-1.json", b'{"ok": true}') + b"END cell:1\nBEGIN probe:test_model\n"
              + _frame("test_model.json", b'{"a": 1}\n') + _frame("test_model.t1.safetensors", b"x" * 100_000)
              + _frame("test_model.json", b'{"b": 2}\n') + b"END probe:test_model\n")
    for i in range(0, len(stream), 7):  # in small pieces, as a pipe may deliver them
        protocol.feed(stream[i:i + 7])
    assert protocol.violation is None
    assert protocol.finished == ["cell:1", "probe:test_model"]
    assert (tmp_path / "test_model.t1.safetensors").read_bytes() == b"x" * 100_000
    assert (tmp_path / "test_model.json").read_bytes() == b'{"a": 1}\n{"b": 2}\n'  # a record at a time


def test_the_launchers_count_at_a_probes_end_voids_that_probe_and_no_cell(tmp_path):
    """What the launcher finds running when a probe ends (census.py) voids the probe, whatever the child says."""
    looked: list[str] = []
    protocol = _protocol(tmp_path)
    protocol.at_probe_end = lambda phase: looked.append(phase) or "1 thread"
    protocol.feed(b"BEGIN cell:1\n" + _frame("cell-1.json", b'{"ok": true}') + b"END cell:1\nBEGIN probe:test_model\n"
                  + _frame("test_model.json", b'{"a": 1}\n') + b"END probe:test_model\n")
    assert protocol.violation is None
    assert looked == ["probe:test_model"]
    assert protocol.voided == {"probe:test_model": "1 thread"}


def test_a_record_sent_twice_voids_the_probe(tmp_path):
    """A forgery that sends a key before (or after) the grader's own record of it makes the probe's evidence void."""
    from autograder.evidence import load_evidence

    (tmp_path / "test_model.json").write_text('{"returned_is_model": true}\n{"returned_is_model": false}\n')
    evidence = load_evidence(tmp_path, {}, {}, {}, {})
    with pytest.raises(CheckFailed, match="private result channel"):
        evidence.probe("test_model")


def test_a_probe_with_a_thread_beside_it_is_void():
    """Student code that leaves a thread running: the probe's evidence says so, whatever it recorded."""
    script = """
import threading, time
from autograder.sandbox.guard import Guard
from autograder.sandbox.recorder import UNTRUSTED, Recorder
rec = Recorder("test_model", Guard())
rec.call("first", lambda: 1)
stop = threading.Event()
rec.call("second", lambda: threading.Thread(target=stop.wait).start())
stop.set()
print(rec.meta[UNTRUSTED])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert "left 1 thread running beside the grader" in done.stdout, done.stderr


def test_a_forged_untrusted_note_in_the_recorders_own_meta_suppresses_nothing():
    """Student code that reaches the recorder through frames and writes the note's key into its meta dict (the red
    team's thread_hides_untrusted_note) does not stop the guard's note from being sent."""
    script = """
import threading
from autograder.evidence import _records
from autograder.sandbox.guard import Guard
from autograder.sandbox.recorder import UNTRUSTED, Recorder
class Channel:
    sent = b""
    def file(self, name, blob):
        Channel.sent += blob if name.endswith(".json") else b""
rec = Recorder("test_model", Guard(), Channel())
stop = threading.Event()
def student():
    rec.meta[UNTRUSTED] = ""
    threading.Thread(target=stop.wait).start()
    return 1
rec.call("first", student)
rec.call("second", lambda: 2)
stop.set()
print(_records(Channel.sent.decode())[UNTRUSTED])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert "left 1 thread running beside the grader" in done.stdout, done.stderr


def test_a_forged_empty_untrusted_note_still_voids_the_probe(tmp_path):
    """A note sent ahead of the guard's own, empty so that it reads as false, voids the probe all the same."""
    from autograder.evidence import load_evidence
    from autograder.sandbox.recorder import LEFT_RUNNING, UNTRUSTED

    lines = [{UNTRUSTED: ""}, {"returned": {"kind": "number", "value": 1}}, {UNTRUSTED: LEFT_RUNNING.format(1)}]
    (tmp_path / "test_model.json").write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(CheckFailed, match="private result channel"):
        load_evidence(tmp_path, {}, {}, {}, {}).probe("test_model")


def _tensor_evidence(folder: Path, tensors: dict, recorded: tuple[str, ...] = ("a",)):
    from safetensors.torch import save_file

    from autograder.evidence import load_evidence
    from autograder.sandbox.recorder import FINISHED

    meta = "".join(json.dumps({key: {"kind": "tensor"}}) + "\n" for key in recorded)
    (folder / "test_model.json").write_text(meta + json.dumps({FINISHED: True}) + "\n")
    save_file(tensors, folder / "test_model.t1.safetensors")
    return load_evidence(folder, {}, {}, {}, {})


def test_a_tensor_file_the_recorder_sent_is_read(tmp_path):
    import torch

    evidence = _tensor_evidence(tmp_path, {"a": torch.arange(3.0)})
    assert evidence.probe("test_model").tensor("a", "a").tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("keys", [("a", "b"), ("c",), ()], ids=["a key too many", "a key never recorded", "empty"])
def test_a_tensor_file_with_other_keys_than_the_one_recorded_voids_the_probe(tmp_path, keys):
    """The recorder sends one tensor per file, under a key its JSON records as a tensor: any other file (the red
    team's 1.4 million empty tensors under made-up keys) is a forgery, found from the header alone."""
    import torch

    evidence = _tensor_evidence(tmp_path, {key: torch.zeros(0) for key in keys}, recorded=("a", "b"))
    with pytest.raises(CheckFailed, match="private result channel"):
        evidence.probe("test_model")


def test_a_tensor_file_with_a_huge_header_is_void_without_reading_it(tmp_path, monkeypatch):
    """A header past MAX_TENSOR_HEADER voids the probe before any tensor is loaded."""
    import struct

    from autograder import evidence as evidence_module
    from autograder.sandbox.recorder import FINISHED

    def never(*_):
        raise AssertionError("a forged file was loaded")

    monkeypatch.setattr(evidence_module, "load_file", never)
    (tmp_path / "test_model.json").write_text('{"a": {"kind": "tensor"}}\n{"%s": true}\n' % FINISHED)
    header = b"{" + b" " * (evidence_module.MAX_TENSOR_HEADER + 8) + b"}"
    (tmp_path / "test_model.t1.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckFailed, match="private result channel"):
        evidence_module.load_evidence(tmp_path, {}, {}, {}, {}).probe("test_model")


def test_a_tensor_of_a_dtype_the_checks_cannot_compute_with_fails_the_check_with_a_plain_message():
    """float8 weights (the red team's float8_trained_weights) fail the check reading them, never the grader."""
    import torch

    from autograder.evidence import ProbeEvidence

    probe = ProbeEvidence("test_model", "model", {"w": {"kind": "tensor"}},
                          {"w": torch.zeros(1).to(torch.float8_e4m3fn)})
    expected = "the weights: expected a tensor of floats, integers or booleans, got one of dtype float8_e4m3fn"
    with pytest.raises(CheckFailed, match=expected):
        probe.tensor("w", "the weights")
    with pytest.raises(CheckFailed, match=expected):
        probe.number("w", "the weights")


@pytest.mark.parametrize("forgery", [
    _frame("test_model.t1.safetensors", b"{}") + _frame("test_model.t1.safetensors", b"{}"),  # a second copy
    _frame("test_other.json", b"{}"),  # another check's file
    _frame("test_model.safetensors", b"{}"),  # not a record's file
    _frame("../escape.json", b"{}"),  # a path
    b"END probe:test_model\nBEGIN probe:test_model\n",  # restart the clock
    b"BEGIN cell:1\n",  # a phase inside a phase
    b"END cell:1\n",  # the end of a phase that is not running
    b"hello\n",  # anything else
    b"x" * 1000,  # a line that never ends
])
def test_the_result_channel_charges_the_running_check_with_any_forgery(tmp_path, forgery):
    protocol = _protocol(tmp_path)
    protocol.feed(b"BEGIN probe:test_model\n" + forgery)
    assert protocol.violation is not None and "private result channel" in protocol.violation
    assert protocol.charged == "probe:test_model"


def test_the_guard_undoes_patches_of_libraries_builtins_and_the_grader_and_refuses_new_function_bodies():
    script = """
import builtins, gc, importlib, torch
probes = importlib.import_module("autograder.assignments.part1_regression.child.probes")
from autograder.sandbox.child import hide_grader_modules
from autograder.sandbox.guard import Guard
from autograder.sandbox.recorder import Recorder
originals = (torch.equal, builtins.isinstance, torch.nn.Module.parameters, probes.lent, Recorder.note.__code__)
guard = Guard(hide_grader_modules().values())
torch.equal = lambda *a: True
torch.Tensor.equal = lambda *a: True
builtins.isinstance = lambda *a: True
builtins.any = lambda *a: False
refused = []
for fn, name, value in ((torch.nn.Module.parameters, "__code__", (lambda self, recurse=True: iter(())).__code__),
                        (Recorder.note, "__code__", (lambda self, key, value: None).__code__),
                        (Guard.heal, "__code__", (lambda self: None).__code__),
                        (torch.nn.Module.parameters, "__defaults__", (False,)),
                        (Recorder.__init__, "__kwdefaults__", {})):
    try:
        setattr(fn, name, value)
    except PermissionError:
        refused.append(name)
assert refused == ["__code__", "__code__", "__code__", "__defaults__", "__kwdefaults__"], refused
for obj in gc.get_objects():
    if type(obj) is dict and "PROBES" in obj and "Recorder" in obj:
        obj["lent"] = None
guard.heal()
assert (torch.equal, builtins.isinstance, torch.nn.Module.parameters, probes.lent, Recorder.note.__code__) == originals
assert "equal" not in vars(torch.Tensor)
try:
    import autograder.expect
except ImportError as err:
    assert "part of the grader" in str(err)
else:
    raise AssertionError("the grader's modules can be imported")
print("ok")
"""
    done = subprocess.run([os.sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


def test_everything_of_the_project_but_the_grader_runtime_is_hidden_from_student_code():
    from autograder.sandbox.namespaces import grader_files, runtime_paths

    seen = {p.relative_to(PROJECT_ROOT).as_posix() for p in grader_files()}
    for name in ("solutions", "tests", "source", ".git", "course_config.py", "autograder/grading.py",
                 "autograder/suite.py"):
        assert not any(s == name or s.startswith(name + "/") for s in seen), name
    assert not any(s.endswith("/checks.py") for s in seen)
    assert "autograder/sandbox/child.py" in seen
    runtime = [Path(os.path.realpath(p)) for p in runtime_paths()]
    assert not any(PROJECT_ROOT == p or PROJECT_ROOT.is_relative_to(p) for p in runtime)
    assert Path(os.sys.prefix).resolve() in runtime


# Grades a few corpus cases in a fresh process whose environment picks the isolation mode.
_GRADE_IN_MODE = """
import json, sys
from pathlib import Path
from autograder import grading
from autograder.batch import grade_many
from autograder.expect import CheckFailed
from autograder.sandbox.limits import isolation_mode
from tests.helpers import write
from tests.hostile.corpus import CASES
from tests.test_hostile import CONFIG, _zeroed

folder, ids = Path(sys.argv[1]), sys.argv[2:]
cases = [c for c in CASES if c.id in ids]
jobs = [(write(c.build(), folder / c.id / f"{c.assignment}.ipynb"), c.assignment) for c in cases]
rows = {}
for case, report in zip(cases, grade_many(jobs, CONFIG, workers=2)):
    zeroed = _zeroed(case, report)
    rows[case.id] = [sum(c.max_score for c in report.checks if c.name not in zeroed), report.score]
print(json.dumps({"mode": isolation_mode(), "rows": rows}))
"""
ISOLATION_CASES = ("fork_bomb", "orphan_processes", "reads_hidden_files", "network_is_unreachable", "fill_the_disk",
                   "kill_the_grader", "segfault_in_function", "forges_eval_and_grad_mode", "stderr_noise")


@pytest.mark.slow
def test_an_unprivileged_graders_user_namespace_grades_isolation_cases_honestly(tmp_path):
    """What a grader that is not root gets: a user namespace (forced here with TENSORGRADE_USER_NAMESPACE)."""
    env = {**os.environ, "TENSORGRADE_USER_NAMESPACE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", _GRADE_IN_MODE, str(tmp_path), *ISOLATION_CASES], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["mode"] != "user":
        pytest.skip("user namespaces are not available on this machine")
    assert {case: actual for case, (honest, actual) in result["rows"].items()} == \
        {case: honest for case, (honest, actual) in result["rows"].items()}
    assert set(result["rows"]) == set(ISOLATION_CASES)


def test_strings_from_the_child_reach_feedback_on_one_line():
    """A student's exception message with line breaks could put a line reading '[PASSED] ...' under a failed check."""
    from autograder.evidence import clamped, raised_message

    record = clamped({"r": {"kind": "raised", "error": "ValueError", "where": "cell 4,\nline 2",
                            "message": "see below\n[PASSED] predict_classes_values (4/4)\r\x1b[2J\u2028done"}})
    said = raised_message(record["r"])
    assert said == ("your code raised ValueError: see below [PASSED] predict_classes_values (4/4)  [2J done "
                    "(cell 4, line 2)")
    assert said.isprintable()
