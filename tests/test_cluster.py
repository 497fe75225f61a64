"""The Dask batch engine (autograder.cluster): plain data on the wire, a real scheduler and workers on
127.0.0.1 with one worker killed mid-batch, and a slow submission that does not hold back quick ones."""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from autograder import feedback, paths
from autograder.cluster import data_fingerprint, make_task, ungradable
from autograder.config import load_config
from autograder.course import BatchTimes, Outcome, Recorder, autograde_course
from autograder.engine import BOOKKEEPING_SETTINGS, engine, in_process, let_go
from autograder.grading import grade_notebook
from autograder.isolation_policy import refusal
from autograder.paths import PROJECT_ROOT, CourseLayout
from autograder.pending import is_recorded
from autograder.results import GradeReport
from autograder.sandbox.limits import Isolation
from tests.helpers import solution, test_config, with_functions, write

CONFIG = load_config()
P1 = "part1_regression"
P2 = "part2_mnist"
SUM_NOT_MEAN = "def loss_fn(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).sum()\n"
ARGMIN = "def predict_classes(scores):\n    return scores.argmin(dim=1)\n"
HANG = "    while True:\n        pass\n"
HANGS = {"model": "def model(x, w, b):\n" + HANG, "loss_fn": "def loss_fn(y_pred, y_true):\n" + HANG,
         "predict_classes": "def predict_classes(scores):\n" + HANG}
BIN = Path(sys.executable).parent


def test_a_report_travels_as_plain_data_and_comes_back_equal():
    report = ungradable(P1, CONFIG)
    report.peak_child_mb, report.peak_worker_mb = 123.0, 456.0
    data = report.to_dict()
    assert all(isinstance(c, dict) for c in data["checks"])
    assert GradeReport.from_dict(data) == report
    assert report.score == 0 and "could not be graded" in report.checks[0].output


def test_a_task_carries_the_seed_not_the_secret(tmp_path):
    path = write(solution(P1), tmp_path / "a.ipynb")
    task = make_task(path, P1, "ada", CONFIG)
    assert set(task) == {"assignment", "student", "program", "seed", "program_key"}
    assert task["program"]["cells"] and all(set(c) == {"index", "source"} for c in task["program"]["cells"])
    assert task["seed"] != make_task(path, P1, "bob", CONFIG)["seed"]
    unreadable = make_task(write(b"not json", tmp_path / "b.ipynb"), P1, "ada", CONFIG)
    assert isinstance(unreadable, GradeReport) and "not valid JSON" in unreadable.unreadable
    assert data_fingerprint(CONFIG, P1) is None


def test_the_local_cluster_runs_no_task_of_a_process_without_its_credentials():
    from distributed import Client
    from distributed.security import Security

    with engine(CONFIG, workers=1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://") and not in_process(client)
        assert client.submit(sum, [1, 2]).result() == 3
        host_port = address.removeprefix("tls://")
        for other in (dict(address=f"tcp://{host_port}"), dict(address=address, security=Security.temporary())):
            with pytest.raises((OSError, TimeoutError)):
                Client(**other, timeout=5)


def _workers_left(client, wait_s: float = 60) -> int:
    """The workers of `client`'s cluster once none is left or wait_s passed (a cluster scales down in the
    background)."""
    deadline = time.monotonic() + wait_s
    while client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(client.scheduler_info()["workers"])


def test_a_local_clusters_workers_keep_their_bookkeeping_quiet_and_are_let_go_when_the_caller_is_done():
    import dask

    def settings() -> dict:
        return {key: dask.config.get(key) for key in BOOKKEEPING_SETTINGS}

    with engine(CONFIG, workers=1) as client:
        client.wait_for_workers(1)
        assert list(client.run(settings).values()) == [BOOKKEEPING_SETTINGS]
        assert settings() == BOOKKEEPING_SETTINGS  # the scheduler's and the nannies' (in this process)
        let_go(client)
        assert _workers_left(client) == 0
    with engine(CONFIG, workers=4, submissions=1) as client:
        let_go(client)  # the small batch's one thread in this process: nothing to stop
        assert client.submit(os.getpid).result(timeout=30) == os.getpid()


def test_a_small_batch_is_graded_in_this_process_without_starting_worker_processes():
    from autograder.engine import IN_PROCESS_UP_TO

    with engine(CONFIG, workers=4, submissions=IN_PROCESS_UP_TO) as client:
        assert client.scheduler.address.startswith("inproc://")  # in memory: nothing a child could connect to
        assert in_process(client), "a calibration then starts an engine of its own instead of one thread"
        assert client.submit(os.getpid).result() == os.getpid()
        assert len(client.scheduler_info()["workers"]) == 1
    assert refusal(True, Isolation("", frozenset({"memory", "pids", "cpu"})), "inproc://host/1/1") == ""


def test_a_batch_writes_each_feedback_page_as_it_records_the_grade_and_leaves_its_timeline(tmp_path, monkeypatch):
    import jinja2

    compiled: list[str] = []  # the feedback templates, compiled for the first page only (FeedbackExporter)
    compile_template = jinja2.Environment.compile

    def counted(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return compile_template(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    # as in a fresh process: pages written earlier by this one (another test's) compiled the templates already
    monkeypatch.setattr(feedback, "_COMPILED", feedback._CompiledTemplates())
    course = _course(tmp_path, {"ada": solution(P1), "bob": with_functions(P1, {"loss_fn": SUM_NOT_MEAN})})
    outcomes = autograde_course(P1, course, CONFIG, progress=False, feedback=True)
    assert "index.html.j2" in compiled and len(compiled) == len(set(compiled)), compiled
    layout = CourseLayout(course)
    times = BatchTimes.read(layout.batch_log(P1))
    assert sorted(o.student for o in outcomes) == ["ada", "bob"]
    for o in outcomes:
        page = layout.feedback(o.student, P1) / f"{P1}.html"
        assert page.is_file() and page.stat().st_mtime <= times.recorded, f"{o.student}: no page, or written late"
        assert f"{o.score:g}" in page.read_text() and o.feedback_cpu_seconds > 0
    assert times.started <= times.engine_up <= times.first_result <= times.last_result <= times.recorded
    assert times.workers == 1, "two submissions are graded in this process"
    assert times.command_peak_mb == 0, "a peak that each task here reset is not the command's"
    assert set(times.record_cpu_seconds) == set(times.feedback_cpu_seconds) == {"ada", "bob"}
    assert all(secs > 0 for secs in times.record_cpu_seconds.values())


def test_a_larger_batch_writes_its_pages_in_a_process_without_torch_and_here_what_that_process_cannot(tmp_path):
    course = _course(tmp_path, {"ada": solution(P1), "bob": with_functions(P1, {"loss_fn": SUM_NOT_MEAN})})
    reports = [o.report for o in autograde_course(P1, course, CONFIG, progress=False)]  # recorded, no pages yet
    layout = CourseLayout(course)

    def pages_written(recorder: Recorder) -> list[Outcome]:
        for page in layout.root.glob("feedback/*/*/*.html"):
            page.unlink()
        for report in reports:
            recorder.put(report)
        outcomes = recorder.close()
        assert sorted(o.student for o in outcomes) == ["ada", "bob"]
        for o in outcomes:
            page = layout.feedback(o.student, P1) / f"{P1}.html"
            assert page.is_file() and f"{o.score:g}" in page.read_text() and o.feedback_cpu_seconds > 0, o.student
        return outcomes

    apart = Recorder(course, CONFIG, feedback=True, pages_apart=True)
    pages_written(apart)
    started = subprocess.run([sys.executable, "-c", "import sys; from autograder import pages; "
                              f"pages._start({str(course)!r}, {str(CONFIG.path)!r}, 0); print('torch' in sys.modules)"],
                             capture_output=True, text=True, check=True)
    assert started.stdout.strip() == "False", "the page process imports torch (500 MB, 1.4 CPU-s)"

    broken = Recorder(course, CONFIG, feedback=True, pages_apart=True)
    broken._pages._pool.submit(os._exit, 1)  # the page process dies before its first page
    pages_written(broken)


def test_a_worker_grades_only_with_the_isolation_the_course_allows_and_no_child_reaching_a_plain_cluster():
    full = Isolation("root", frozenset({"memory", "pids", "cpu"}))
    no_cgroups = Isolation("root", frozenset())
    no_namespaces = Isolation("", frozenset({"memory", "pids", "cpu"}))
    assert refusal(False, full, "tcp://10.0.0.1:8786") == ""
    assert "not grading" in refusal(False, no_cgroups, "tls://10.0.0.1:8786")
    assert refusal(True, no_cgroups, "tcp://10.0.0.1:8786") == ""
    assert refusal(True, no_namespaces, "tls://10.0.0.1:8786") == ""
    assert refusal(True, no_namespaces, None) == ""  # graded outside a cluster
    why = refusal(True, no_namespaces, "tcp://10.0.0.1:8786")
    assert "unencrypted" in why and "TLS" in why


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _course(tmp_path: Path, submissions: dict[str, object], assignment: str = P1) -> Path:
    course = tmp_path / "course"
    shutil.copytree(paths.SOURCE_DIR / assignment, course / "source" / assignment)
    shutil.copyfile(PROJECT_ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
                    "--log-level=ERROR"], cwd=course, env=env, check=True)
    for student, nb in submissions.items():
        write(nb, course / "submitted" / student / assignment / f"{assignment}.ipynb")
    return course


def _gradebook_total(course: Path, student: str, assignment: str = P1) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", CONFIG.course_id) as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return sum(g.score for g in nb.grades if g.cell_type == "code")


@pytest.mark.slow
def test_a_batch_command_grades_on_its_workers_without_ever_importing_torch_itself(tmp_path):
    """The command (the client) reads, seeds, checks the data's fingerprint and calibration, records and writes
    pages; only its workers grade. torch in the client cost 2 CPU-s while the workers start on the same cores,
    and 500 MB for as long as the batch runs."""
    from autograder.engine import IN_PROCESS_UP_TO

    students = [f"s{i}" for i in range(IN_PROCESS_UP_TO + 1)]  # more than this process grades itself
    course = _course(tmp_path, {student: solution(P2) for student in students}, P2)
    script = ("import sys\nsys.modules['torch'] = None  # importing torch fails here, not in the workers\n"
              "from autograder import cli\nsys.exit(cli.main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "autograde", P2, "--course", str(course), "--workers", "2"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    full = sum(CONFIG.assignment(P2).check_points.values())
    assert {s: _gradebook_total(course, s, P2) for s in students} == dict.fromkeys(students, full)
    assert all((CourseLayout(course).feedback(s, P2) / f"{P2}.html").is_file() for s in students)
    peak = BatchTimes.read(CourseLayout(course).batch_log(P2)).command_peak_mb
    assert 0 < peak < 400, f"the command peaked at {peak} MB (torch's import alone holds 507 MB)"


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _all_gone(pids: set[int], timeout: float = 20) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = {p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}
        if not alive:
            return set()
        time.sleep(0.2)
    return alive


@pytest.mark.slow
def test_a_dask_cluster_with_a_worker_killed_mid_batch_records_every_submission_once_as_graded_locally(tmp_path):
    from distributed import Client

    submissions = {f"s{i}": solution(P1) for i in range(5)}
    submissions.update(w0=with_functions(P1, {"loss_fn": SUM_NOT_MEAN}),
                       w1=with_functions(P1, {"predict_classes": ARGMIN}),
                       w2=with_functions(P1, {"loss_fn": SUM_NOT_MEAN, "predict_classes": ARGMIN}))
    course = _course(tmp_path, submissions)
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "2",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    logs = tmp_path / "logs"
    logs.mkdir()
    port = address.rsplit(":", 1)[1]
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port,
                               "--no-dashboard"], env=env, cwd=tmp_path, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "wb"))]
    started: set[int] = set()
    try:
        for i in range(2):
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--name", f"w{i}"], env=env, cwd=tmp_path, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=open(logs / f"worker{i}.log", "wb")))
        with Client(address, timeout=60) as monitor:
            monitor.wait_for_workers(2, timeout=120)
            outcomes: list = []
            batch = threading.Thread(target=lambda: outcomes.extend(
                autograde_course(P1, course, CONFIG, progress=False, scheduler=address)))
            batch.start()
            killed, deadline = None, time.monotonic() + 300
            while killed is None and batch.is_alive():
                assert time.monotonic() < deadline, "no worker was ever busy"
                busy = [w for w, tasks in monitor.processing().items() if tasks]
                recorded = any(is_recorded(course, CONFIG.course_id, P1, s) for s in submissions)
                if busy and recorded:
                    pid = monitor.run(os.getpid, workers=[busy[0]])[busy[0]]
                    victims = {pid} | {c.pid for c in psutil.Process(pid).children(recursive=True)}
                    os.kill(pid, signal.SIGKILL)
                    killed = victims
                time.sleep(0.2)
            batch.join(timeout=600)
            assert killed, "the batch finished before a worker could be killed"
            assert not _all_gone(killed), "the killed worker's zygote or sandbox children outlived it"
        for proc in procs:
            started |= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
    finally:
        _stop(procs)
    assert not _all_gone(started), "processes of the scheduler or workers outlived them"
    assert sorted(o.student for o in outcomes) == sorted(submissions), "every submission recorded exactly once"
    for student in submissions:
        path = course / "submitted" / student / P1 / f"{P1}.ipynb"
        local = grade_notebook(path, P1, CONFIG, student=student)
        assert _gradebook_total(course, student) == local.score, student
    assert len({_gradebook_total(course, s) for s in submissions}) > 1, "the mutants must lose points"


@pytest.mark.slow
def test_a_submission_that_runs_into_its_time_limit_is_recorded_after_the_quick_ones(tmp_path):
    # Every probe of the slow one runs to its 30 s limit until the 90 s budget ends: long enough that five quick
    # ones graded one after another fit in it on a busy 2-core machine.
    config = dataclasses.replace(test_config(), submission_time_limit_s=90)
    quick = {f"quick{i}": solution(P1) for i in range(5)}
    course = _course(tmp_path, {"a_slow": with_functions(P1, HANGS), **quick})
    with engine(config, workers=2) as client:
        client.wait_for_workers(2)
        outcomes = autograde_course(P1, course, config, progress=False, client=client, last_use=True)
        assert _workers_left(client) == 0, "the workers outlived the batch the command started them for"
    order = [o.student for o in outcomes]
    assert order[-1] == "a_slow" and sorted(order[:-1]) == sorted(quick), [(o.student, o.seconds) for o in outcomes]
    slow = outcomes[-1]
    assert slow.score < 80 and slow.seconds >= config.check_time_limit_s  # its probe of model ran out of time
    assert all(o.score == 80 for o in outcomes[:-1])
