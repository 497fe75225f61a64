"""The child sees only what it needs, takes only its share of the CPU, and weak isolation is never silent (issue #11).

The decoy and CPU tests grade real notebooks through the sandbox; they need namespaces (the decoys)
and a cpu cgroup (the CPU test), which `make test` has as root, and skip elsewhere.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from autograder import assignments, paths
from autograder.assignments import child_may_read
from autograder.batch import grade_many
from autograder.config import DEFAULT_CONFIG, ConfigError, load_config
from autograder.grading import grade_notebook
from autograder.paths import PROJECT_ROOT
from autograder.results import CheckResult, GradeReport
from autograder.sandbox.limits import Isolation, isolation, isolation_mode
from autograder.sandbox.namespaces import (
    WORK,
    grader_files,
    released_files,
    runtime_paths,
)
from tests.helpers import replace_function, solution, test_config, write

CONFIG = test_config()
P1 = "part1_regression"
FULL = Isolation("root", frozenset({"memory", "pids", "cpu"}))
# Places a second copy of the course could be on a grading host.
HOST_PLACES = ("/home", "/root", "/srv", "/opt", "/var", "/work", "/mnt")


def _release(assignment: str):
    import nbformat

    return nbformat.read(paths.release_notebook(assignment, CONFIG.assignment(assignment).notebook), as_version=4)


def _needs_namespaces() -> None:
    if not isolation_mode():
        pytest.skip("namespaces are not available on this machine: the child has no root of its own")


# ------------------------------------------------------------------ the allow-list root

def _allowed_paths() -> list[str]:
    """Every path the child's root is built from, as the child names it."""
    allowed = list(runtime_paths()) + [os.path.realpath(p) for p in runtime_paths()]
    allowed += [str(p) for p in grader_files()]
    allowed += [f"{WORK}/{p.name}" for p in released_files(paths.RELEASE_DIR / P1)]
    return allowed + ["/dev/null", "/etc/passwd", "/proc/self", "/tmp"]


def expected_listings() -> dict[str, list[str] | None]:
    """What os.listdir shows in the child for the root, the host's usual places and the project's folder;
    None: the place does not exist. Places inside a folder bound from the host (e.g. /usr) are left out."""
    allowed = _allowed_paths()
    bound = [p for p in allowed if os.path.isdir(p) and not os.path.islink(p)]
    places = ["/", *HOST_PLACES, str(PROJECT_ROOT), str(PROJECT_ROOT / "autograder")]
    found: dict[str, list[str] | None] = {}
    for place in places:
        if any(place == b or place.startswith(b.rstrip("/") + "/") for b in bound):
            continue
        prefix = place.rstrip("/") + "/"
        below = {p[len(prefix):].split("/")[0] for p in allowed if p.startswith(prefix)}
        found[place] = sorted(below) if below else None
    return found


LISTING_CHECK = '''
def predict_classes(scores):
    import os
    wrong = {}
    for place, expected in EXPECTED.items():
        actual = sorted(os.listdir(place)) if os.path.isdir(place) else None
        if actual != expected:
            wrong[place] = actual
    if wrong:
        raise RuntimeError(f"the root differs: {wrong}")
    return scores.argmax(dim=1)
'''


def test_the_rule_admits_the_childs_grader_modules_and_never_the_hidden_checks_solutions_or_tests():
    seen = {p.relative_to(PROJECT_ROOT).as_posix() for p in grader_files()}
    assert {"autograder/sandbox/child.py", "autograder/assignments/probing.py",
            "autograder/assignments/part1_regression/child/inputs.py",
            "autograder/assignments/part2_mnist/child/probes.py"} <= seen
    for secret in ("autograder/assignments/part1_regression/trusted/checks.py",
                   "autograder/assignments/part2_mnist/trusted/checks.py",
                   "autograder/assignments/part2_mnist/trusted/mistakes.py",
                   "autograder/assignments/part1_regression/trusted/notebook.py",
                   "autograder/assignments/part1_regression/trusted/mutants.py",
                   "autograder/assignments/part2_mnist/trusted/variants.py",
                   "autograder/assignments/part2_mnist/trusted/diagnoses.py",
                   "autograder/assignments/catalog.py",
                   "autograder/assignments/new_one/trusted/anything_new.py", "autograder/assignments/new_one/stray.py",
                   "autograder/assignments/pytest.ini",
                   "solutions/part1_regression.py", "tests/helpers.py",
                   "source/part1_regression/part1_regression.ipynb",
                   "course_config.py", "autograder/suite.py", "autograder/grading.py", "autograder/authoring/build.py",
                   ".cache/grading-secret"):
        assert not child_may_read(secret), secret
    assert not any("/trusted/" in s for s in seen)


def test_the_zygote_preloads_only_modules_whose_sources_the_child_may_see():
    """The rule and what the child runs agree: every grader module the zygote loads has its source in the root."""
    script = ("import sys\nfrom autograder import assignments\nfrom autograder.sandbox import child\n"
              "for name in assignments.names(): assignments.module(name, 'probes')\n"
              "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'autograder'))")
    done = subprocess.run([sys.executable, "-I", "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    loaded = {Path(line).relative_to(PROJECT_ROOT).as_posix() for line in done.stdout.split()}
    assert {name for name in loaded if not child_may_read(name)} == set()


def test_the_expected_root_has_no_host_places_beyond_the_interpreters_path():
    listings = expected_listings()
    for name in assignments.names():
        assert "trusted" not in (listings.get(str(assignments.folder(name))) or [])
    assert not {"solutions", "tests", "source", ".git", "course_config.py", ".cache"} \
        & set(listings.get(str(PROJECT_ROOT)) or [])
    assert set(listings["/"]) >= {"dev", "etc", "proc", "tmp"}
    for place in ("/srv", "/opt", "/var", "/mnt", "/home"):
        if place in listings and not any(p.startswith(place + "/") for p in runtime_paths()):
            assert listings[place] is None, place


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["machine", "user"])
def test_the_childs_root_lists_only_the_allowed_entries(tmp_path, mode):
    """/ holds the runtime, /dev, /etc, /proc and /tmp; /home, /srv, /opt, /var, /mnt are absent; /root and /work
    hold only the path to the interpreter and to the grader's child-side modules."""
    _needs_namespaces()
    nb = replace_function(solution(P1), "predict_classes",
                          LISTING_CHECK.replace("EXPECTED", repr(expected_listings())))
    path = write(nb, tmp_path / "listing.ipynb")
    if mode == "machine":
        report = grade_notebook(path, P1, CONFIG)
        outputs, score = [c.output for c in report.checks if not c.passed], report.score
    else:
        if os.geteuid() != 0:
            pytest.skip("the machine's mode is already the user namespace")
        outputs, score = _grade_in_subprocess(path, tmp_path, {"TENSORGRADE_USER_NAMESPACE": "1"})
    assert outputs == [], outputs
    assert score == sum(CONFIG.assignment(P1).check_points.values())


def _grade_in_subprocess(path: Path, tmp_path: Path, env: dict[str, str]) -> tuple[list[str], float]:
    script = ("import json, sys\nfrom autograder.grading import grade_notebook\nfrom tests.helpers import test_config\n"
              "r = grade_notebook(sys.argv[1], 'part1_regression', test_config())\n"
              "print(json.dumps([[c.output for c in r.checks if not c.passed], r.score]))")
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs, score = json.loads(done.stdout.strip().splitlines()[-1])
    return outputs, score


# ------------------------------------------------------------------ decoys outside the kit

DECOY_HUNTER = '''
def predict_classes(scores):
    """Walk the whole file system, run every solution found, and name what was found."""
    import json, os, time
    g = globals()
    if "_found" not in g:
        g["_found"] = found = []
        started = time.monotonic()
        for top, dirs, files in os.walk("/"):
            if top in ("/proc", "/sys", "/dev") or time.monotonic() - started > 20:
                dirs[:] = []
                continue
            for name in files:
                path = os.path.join(top, name)
                if "decoy" in path or "solutions" in top.split("/") or name.endswith(".ipynb"):
                    found.append(path)
                try:
                    if name.endswith(".py") and ("solutions" in top.split("/") or name == "part1_regression.py"):
                        exec(compile(open(path).read(), path, "exec"), g)
                    elif name.endswith(".ipynb"):
                        for cell in json.load(open(path))["cells"]:
                            if cell["cell_type"] == "code" and "def " in "".join(cell["source"]):
                                exec("".join(cell["source"]), g)
                except BaseException:
                    pass
    found = sorted(g["_found"], key=lambda p: ("decoy" not in p, "solutions" not in p, p))
    raise RuntimeError(f"found {len(found)} {found}")
'''


@pytest.fixture
def decoys(tmp_path_factory):
    """Copies of solutions/ and a source notebook outside the kit; removed afterwards, whatever happens."""
    marker = f"tensorgrade-decoy-{uuid.uuid4().hex[:12]}"
    places = [Path("/srv"), Path("/opt"), Path("/var/tmp"), Path.home(), PROJECT_ROOT.parent,
              Path("/mnt") / f"other-course-{marker}"]
    planted: list[Path] = []
    try:
        for place in places:
            target = place / marker if place.name != f"other-course-{marker}" else place
            try:
                shutil.copytree(paths.SOLUTIONS_DIR, target / "solutions",
                                ignore=shutil.ignore_patterns("__pycache__"))
            except OSError:
                shutil.rmtree(target, ignore_errors=True)
                continue
            planted.append(target)
            notebook = paths.source_notebook(P1, CONFIG.assignment(P1).notebook)
            (target / "source" / P1).mkdir(parents=True)
            shutil.copyfile(notebook, target / "source" / P1 / notebook.name)
        if len(planted) < 5:
            pytest.skip(f"could plant decoys in {len(planted)} places only (not root?)")
        yield marker, planted
    finally:
        for target in planted:
            shutil.rmtree(target, ignore_errors=True)


@pytest.mark.slow
def test_a_notebook_that_hunts_the_disk_for_solutions_finds_no_decoy_and_scores_zero(tmp_path, decoys):
    _needs_namespaces()
    marker, planted = decoys
    nb = replace_function(_release(P1), "predict_classes", DECOY_HUNTER)
    report = grade_notebook(write(nb, tmp_path / "hunter.ipynb"), P1, CONFIG)
    said = "\n".join([c.output for c in report.checks] + report.notes)
    assert "your code raised RuntimeError: found" in said, "the hunting function did not run"
    assert marker not in said and "solutions/" not in said, said
    assert report.score == 0, {c.name: c.score for c in report.checks if c.score}
    assert all(p.exists() for p in planted)  # (the fixture removes them)


# ------------------------------------------------------------------ a fair share of CPU

# Starts 120 busy processes in sessions of their own, then sleeps (the probe of predict_classes keeps the
# child alive for 25 s, then ends them). Under its one-core cap the hog slows down only itself, its forks included.
HOG_FUNCTION = '''
def predict_classes(scores):
    import os, time
    g = globals()
    if os.getpid() == 1 and not g.get("_hogging"):  # only as PID 1 of the sandbox, never in a test process
        g["_hogging"] = started = time.monotonic()
        for _ in range(120):
            if os.fork() == 0:
                os.setsid()
                while True:
                    pass
            if time.monotonic() - started > 10:
                break
        time.sleep(max(0, 25 - (time.monotonic() - started)))
        os.kill(-1, 9)  # every other process of the sandbox's PID namespace: the hog is over
    return scores.argmax(dim=1)
'''


@pytest.mark.slow
def test_a_cpu_hog_beside_a_correct_solution_costs_it_no_points_and_little_time(tmp_path):
    status = isolation()
    if not status.mode or "cpu" not in status.controllers:
        pytest.skip("no namespaces or no cpu cgroup on this machine")
    correct = write(solution(P1), tmp_path / "correct.ipynb")
    hog = write(replace_function(solution(P1), "predict_classes", HOG_FUNCTION), tmp_path / "hog.ipynb")
    full = sum(CONFIG.assignment(P1).check_points.values())
    grade_many([(correct, P1)], CONFIG, workers=1)  # the zygote and the inputs are ready from here on
    alone = [grade_many([(correct, P1)], CONFIG, workers=1)[0] for _ in range(3)]
    # Two workers: the hog in one (for 25 s), the correct notebook four times in a row in the other.
    started = time.monotonic()
    beside = grade_many([(hog, P1)] + [(correct, P1)] * 4, CONFIG, workers=2)[1:]
    assert time.monotonic() - started > 20, "the hog did not run"
    alone_s = statistics.median(r.execution_time for r in alone)
    beside_s = statistics.median(r.execution_time for r in beside)
    ratio = beside_s / alone_s
    print(f"\ncorrect part1 alone {alone_s:.2f} s (median of 3); beside a 120-process CPU hog {beside_s:.2f} s "
          f"(median of 4, slowest {max(r.execution_time for r in beside):.2f} s): slow-down {ratio:.2f}x")
    assert [r.score for r in alone + beside] == [full] * 7, [c.output for r in beside for c in r.checks
                                                            if not c.passed]
    assert ratio < 2, f"a CPU hog slowed a correct submission down {ratio:.1f}x"


# ------------------------------------------------------------------ weak isolation is never silent

def test_the_refusal_names_what_is_missing_and_how_to_get_it():
    text = Isolation("", frozenset({"pids"})).refusal()
    for words in ("namespaces", "memory cgroup", "cpu cgroup", "Dockerfile", "docs/sandbox.md",
                  "ALLOW_WEAK_ISOLATION = True"):
        assert words in text, words
    assert "pids cgroup (" not in text
    assert FULL.full and FULL.missing == [] and FULL.describe().startswith("full isolation")


def test_a_report_graded_with_weak_isolation_says_so_in_results_json_and_only_then():
    checks = [CheckResult("model_values", "test_model", 3.0, 3.0, "")]
    weak = Isolation("user", frozenset({"pids"})).describe()
    report = GradeReport(P1, checks, {}, [], 1.0, weak, weak_isolation=True)
    assert report.isolation_note.endswith(weak)
    assert weak in report.to_gradescope()["output"]
    full = GradeReport(P1, checks, {}, [], 1.0, FULL.describe()).to_gradescope()
    assert "isolation" not in full["output"]  # only the total line: results.json always states the total


def test_allow_weak_isolation_must_be_a_boolean_and_is_off_by_default(tmp_path):
    assert load_config(DEFAULT_CONFIG).allow_weak_isolation is False
    text = DEFAULT_CONFIG.read_text()
    assert "ALLOW_WEAK_ISOLATION = False" in text
    bad = tmp_path / "course_config.py"
    bad.write_text(text.replace("ALLOW_WEAK_ISOLATION = False", 'ALLOW_WEAK_ISOLATION = "yes"'))
    with pytest.raises(ConfigError, match="ALLOW_WEAK_ISOLATION"):
        load_config(bad)


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "TENSORGRADE_CONFIG"}  # the shipped config, flag off
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**base, "PYTHONPATH": str(PROJECT_ROOT), **env}, check=False)


@pytest.mark.slow
def test_grade_refuses_weak_isolation_unless_allowed_and_then_states_it_in_results_json(tmp_path):
    notebook = write(solution(P1), tmp_path / "nb.ipynb")
    weak = {"TENSORGRADE_NO_NAMESPACES": "1"}
    done = _cli("grade", str(notebook), "--assignment", P1, "--out", "results.json", cwd=tmp_path, env=weak)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "not grading" in done.stderr and "namespaces" in done.stderr and "ALLOW_WEAK_ISOLATION" in done.stderr
    assert not (tmp_path / "results.json").exists()
    allowed = tmp_path / "course_config.py"
    allowed.write_text(DEFAULT_CONFIG.read_text().replace("ALLOW_WEAK_ISOLATION = False",
                                                          "ALLOW_WEAK_ISOLATION = True"))
    done = _cli("--config", str(allowed), "grade", str(notebook), "--assignment", P1, "--out", "results.json",
                cwd=tmp_path, env=weak)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "results.json").read_text())
    assert "graded with weak isolation" in result["output"]
    assert "weak isolation" in done.stdout and "WARNING" in done.stderr
    assert result["score"] == sum(CONFIG.assignment(P1).check_points.values())


# ------------------------------------------------------------------ nothing a child does outlives it (issue 20)

# A cell that looks for what an earlier child left (a key in the user's keyring, a SysV shared-memory segment,
# files in its /tmp, /dev/shm and work folder), then leaves them itself; `model` raises if it found any.
LEAVES_STATE = '''
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_SYS_ADD_KEY, _SYS_KEYCTL, _SYS_SHMGET = 248, 250, 29  # x86_64
_USER_KEYRING, _KEYCTL_SEARCH, _IPC_CREAT = -4, 10, 0o1000
_DESCRIPTION, _SHM_KEY = b"@@MARKER@@", @@SHM_KEY@@
_FILES = ("/tmp/@@MARKER@@", "/dev/shm/@@MARKER@@", os.path.expanduser("~/@@MARKER@@"))
_left_before = []
if _libc.syscall(_SYS_KEYCTL, _KEYCTL_SEARCH, _USER_KEYRING, b"user", _DESCRIPTION, 0) >= 0:
    _left_before.append("a key")
if _libc.syscall(_SYS_SHMGET, _SHM_KEY, 0, 0) >= 0:
    _left_before.append("a shared-memory segment")
_left_before += [path for path in _FILES if os.path.exists(path)]
_libc.syscall(_SYS_ADD_KEY, b"user", _DESCRIPTION, b"expected values", 15, _USER_KEYRING)
_libc.syscall(_SYS_SHMGET, _SHM_KEY, 4096, _IPC_CREAT | 0o666)
for _path in _FILES:
    try:
        with open(_path, "w") as _file:
            _file.write("expected values")
    except OSError:
        pass

def model(x, w, b):
    if _left_before:
        raise RuntimeError(f"an earlier child left {_left_before}")
    return w * x + b
'''


def _left_state_notebook(tmp_path: Path) -> Path:
    """A part 1 notebook whose model cell is LEAVES_STATE, with names of its own (a fresh marker)."""
    marker = uuid.uuid4()
    source = LEAVES_STATE.replace("@@MARKER@@", f"tensorgrade-left-{marker.hex}")
    source = source.replace("@@SHM_KEY@@", str(0x7E500000 + marker.int % 2**20))
    return write(replace_function(solution(P1), "model", source), tmp_path / "left" / f"{P1}.ipynb")


def _model_checks(report: GradeReport) -> list[CheckResult]:
    return [c for c in report.checks if c.grade_id == "test_model"]


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the cell calls x86_64 system call numbers")
def test_a_key_shared_memory_and_files_left_by_one_child_are_invisible_to_the_next_grade(tmp_path):
    _needs_namespaces()
    path = _left_state_notebook(tmp_path)
    for _ in range(2):  # the second grading's child looks for what the first one's left
        report = grade_notebook(path, P1, CONFIG)
        assert all(c.passed for c in _model_checks(report)), [c.output for c in _model_checks(report)]


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the cell calls x86_64 system call numbers")
def test_a_key_shared_memory_and_files_left_by_one_child_are_invisible_to_the_next_in_a_batch(tmp_path):
    _needs_namespaces()
    path = _left_state_notebook(tmp_path)
    reports = grade_many([(path, P1)] * 3, CONFIG, workers=1)  # one worker: one after the other
    for report in reports:
        assert all(c.passed for c in _model_checks(report)), [c.output for c in _model_checks(report)]


def test_the_child_cannot_add_a_key_or_make_sysv_ipc():
    """The seccomp filter itself, in a process of its own: keyrings and SysV IPC are refused with EPERM."""
    script = """
import ctypes, errno
from autograder.sandbox.syscalls import deny_lasting_state
libc = ctypes.CDLL(None, use_errno=True)
deny_lasting_state()
refused = []
for name, number, args in (("add_key", 248, (b"user", b"tensorgrade-probe", b"x", 1, -4)),
                           ("shmget", 29, (0, 4096, 0o1666)), ("msgget", 68, (0, 0o1666)),
                           ("semget", 64, (0, 1, 0o1666))):
    if libc.syscall(number, *args) == -1 and ctypes.get_errno() == errno.EPERM:
        refused.append(name)
print(",".join(refused))
"""
    if os.uname().machine != "x86_64":
        pytest.skip("the script calls x86_64 system call numbers")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.stdout.strip() == "add_key,shmget,msgget,semget", done.stderr


def test_the_child_cannot_lock_or_watch_a_file_another_child_reads():
    """Locks and watches on a file both children's roots bind would carry messages between children graded at
    once: flock, fcntl's lock and lease commands and inotify are refused with EPERM; fcntl's other commands
    (descriptor flags, which the interpreter uses) still work."""
    script = """
import errno, fcntl, os, struct, ctypes
from autograder.sandbox.syscalls import deny_lasting_state
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(os.__file__, os.O_RDONLY)
deny_lasting_state()
refused = []
def attempt(name, call):
    try:
        call()
    except OSError as err:
        if err.errno == errno.EPERM:
            refused.append(name)
attempt("flock", lambda: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB))
attempt("F_SETLK", lambda: fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 4242, 1, 0)))
attempt("F_GETLK", lambda: fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 4242, 1, 0)))
attempt("F_OFD_SETLK", lambda: fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 1, 0)))
attempt("F_NOTIFY", lambda: fcntl.fcntl(fd, fcntl.F_NOTIFY, fcntl.DN_ACCESS))
if libc.inotify_init1(0) == -1 and ctypes.get_errno() == errno.EPERM:
    refused.append("inotify_init1")
fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
print(",".join(refused), fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.stdout.split() == ["flock,F_SETLK,F_GETLK,F_OFD_SETLK,F_NOTIFY,inotify_init1", "1"], done.stderr
