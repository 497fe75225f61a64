"""Grading a whole course: stock nbgrader versus this kit, and throughput per worker count (make benchmark).

Side by side in one run, on N copies of the part2_mnist reference notebook (one per student):
  1. stock nbgrader (`nbgrader autograde`, whose own Execute step runs each notebook top to bottom in a kernel, then
     `nbgrader generate_feedback` and `nbgrader export`) versus `python -m autograder autograde` (local Dask
     cluster, one worker process per core, run before and after stock: the speed-up is against the mean of the
     two), each from the notebooks handed in (cold) to the same outputs: a fresh gradebook.db, every feedback page
     and grades.csv; on the course's offline data, and on the 60,000 Fashion-MNIST images of Debian's
     dataset-fashion-mnist where it is installed;
  2. throughput of the Dask engine with 1, 2, ... up to all cores' worker processes, each warmed up first
     (zygote and data ready), on PER_WORKER submissions per worker, and parallel efficiency
     (submissions/s with k workers over k times the rate with one);
  3. peak memory per task (the sandbox child's memory cgroup and the grading worker's resident memory),
     and the per-submission cost with one worker against the accuracy check's own training time.

    python benchmarks/scaling.py [--n 4] [--full-size-n 2] [--per-worker 4] [--max-workers K]

The full comparison of the issue is `--n 32 --full-size-n 32` (about 30 minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import nbformat
import torch
from torch import nn

from autograder.assignments.part2_mnist.child.inputs import training_loader
from autograder.assignments.part2_mnist.trusted.data import has_real_files
from autograder.assignments.part2_mnist.trusted.hooks import CALIBRATED_CHECK, data_inputs
from autograder.authoring.build import solution_notebook
from autograder.cluster import DATA_PHASE, data_fingerprint, grade_task, make_task
from autograder.config import DEFAULT_CONFIG, CourseConfig, load_config
from autograder.course import RECORDER_NICENESS, BatchTimes
from autograder.engine import cores, engine
from autograder.grading import SANDBOX_PHASE, probe_label
from autograder.paths import PROJECT_ROOT, CourseLayout
from autograder.process_memory import resident_mb
from autograder.results import GradeReport
from autograder.sandbox.arithmetic import grading_arithmetic
from autograder.submission import release_of
from autograder.submission_log import read_logs
from solutions import part2_mnist as ref

A = "part2_mnist"
FULL_SIZE = Path("/usr/share/datasets/fashion-mnist")  # apt-get install dataset-fashion-mnist
BIN = Path(sys.executable).parent
STOCK_CONFIG = '''"""Stock nbgrader: the course settings of course_config.py, with nbgrader's own Execute step."""
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern, LimitOutput,
                                    SaveAutoGrades)

from autograder.nbgrader_setup import configure

c = get_config()  # noqa: F821
configure(c)
c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                                       AssignLatePenalties, CheckCellMetadata]
c.Execute.timeout = 1800
'''
# What stock nbgrader runs to leave what the kit's one command leaves: the grades in gradebook.db, every student's
# feedback page (the kit's template, through configure) and grades.csv (the kit's columns, through configure).
STOCK_STEPS = (["autograde", A], ["generate_feedback", A], ["export"])


def full_size_config(folder: Path) -> Path:
    """A copy of course_config.py that grades part2_mnist on the full Fashion-MNIST files."""
    text = DEFAULT_CONFIG.read_text().replace('"dataset": "MNIST"', '"dataset": "FashionMNIST"', 1)
    text = text.replace('"data_root": None', f'"data_root": "{FULL_SIZE}"', 1)
    text += f"\nGRADING_SECRET_FILE = {str(PROJECT_ROOT / '.cache' / 'grading-secret')!r}\n"
    path = folder / "course_config.py"
    path.write_text(text)
    return path


def make_course(root: Path, config: CourseConfig, n: int, *, stock: bool, env: dict) -> None:
    """A course directory with part2_mnist released and n students who handed in the reference."""
    shutil.copytree(PROJECT_ROOT / "source" / A, root / "source" / A)
    shim = STOCK_CONFIG if stock else (PROJECT_ROOT / "nbgrader_config.py").read_text()
    (root / "nbgrader_config.py").write_text(shim)
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", A, "--force", "--log-level=ERROR"], cwd=root,
                   env=env, check=True, capture_output=True)
    text = nbformat.writes(solution_notebook(config, A))
    for i in range(n):
        folder = root / "submitted" / f"s{i:02d}" / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_text(text)
        if stock:  # what a student's folder holds for the notebook to run: the loader and the data
            shutil.copy(PROJECT_ROOT / "release" / A / "course_data.py", folder / "course_data.py")
            if settings(config)["data_root"] == str(FULL_SIZE):
                (folder / "data").mkdir()
                for f in FULL_SIZE.glob("*.gz"):
                    (folder / "data" / f.name).symlink_to(f)


class Timed(NamedTuple):
    """One timed run: wall seconds in all, each command's, when it started (seconds since the epoch), its course."""

    wall: float
    steps: dict[str, float]
    epoch: float
    root: Path


def timed_autograde(config: CourseConfig, config_path: Path, n: int, folder: Path, *,
                    stock: bool, name: str = "") -> Timed:
    """Wall seconds from n copies handed in to the outputs a user reads (gradebook.db, every feedback page,
    grades.csv), in a fresh course directory (`name`, else stock or kit). The kit's one command writes all of
    them; stock nbgrader needs three (STOCK_STEPS)."""
    root = folder / (name or ("stock" if stock else "kit"))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "TENSORGRADE_CONFIG": str(config_path)}
    make_course(root, config, n, stock=stock, env=env)
    commands = ({step[0]: [str(BIN / "nbgrader"), *step, "--log-level=ERROR"] for step in STOCK_STEPS} if stock else
                {"autograde": [sys.executable, "-m", "autograder", "autograde", A, "--course", str(root)]})
    epoch, steps = time.time(), {}
    for name, cmd in commands.items():
        started = time.monotonic()
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-3000:]}")
        steps[name] = seconds
    check_outputs(root, n)
    return Timed(sum(steps.values()), steps, epoch, root)


def check_outputs(root: Path, n: int) -> None:
    """Stop where a run did not leave the outputs a user reads: a feedback page and a grades.csv row per student."""
    pages = list((root / "feedback").glob(f"*/{A}/{A}.html"))
    with open(root / "grades.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row.get("assignment") == A]
    if len(pages) != n or len(rows) != n:
        raise SystemExit(f"{root.name}: {len(pages)} feedback pages and {len(rows)} grades.csv rows for {n} notebooks")


def breakdown(config: CourseConfig, n: int, wall: float, epoch: float, root: Path, train: float) -> list[str]:
    """Where the kit's wall time went, against the floor (the accuracy check's own training, `train` seconds,
    on each of the batch's workers): from the batch's timeline (BatchTimes) and each report's phases."""
    layout = CourseLayout(root)
    times = BatchTimes.read(layout.batch_log(A))
    reports = read_logs(layout, A)
    k = times.workers
    training = f"{SANDBOX_PHASE}{probe_label(release_of(A, config), CALIBRATED_CHECK)}"

    def total(pick) -> float:
        return sum(pick(r) for r in reports)

    def sandboxed(r: GradeReport) -> float:
        return sum(v for name, v in r.phases.items() if name.startswith(SANDBOX_PHASE))

    busy = total(lambda r: r.execution_time + r.phases.get(DATA_PHASE, 0.0))
    start = {id(r): r.phases["sandbox"] - sandboxed(r) for r in reports}
    first = {id(r) for r in reports if DATA_PHASE in r.phases}  # each worker's first task
    usual = statistics.median([secs for key, secs in start.items() if key not in first] or [0.0])
    zygote = sum(start[key] - usual for key in first)
    parts = [
        ("the floor: the accuracy check's own training", n * train),
        ("  that training in the sandbox, over the floor", total(lambda r: r.phases.get(training, 0.0)) - n * train),
        ("  the other probes and cells", total(lambda r: sandboxed(r) - r.phases.get(training, 0.0))),
        ("  sandbox start and end", total(lambda r: start[id(r)]) - zygote),
        ("  a worker's first task waiting for its zygote (over the usual)", zygote),
        ("  prepare (inputs), read", total(lambda r: r.phases.get("prepare", 0.0) + r.phases.get("read", 0.0))),
        ("  judge (the hidden suite)", total(lambda r: r.phases.get("judge", 0.0))),
        ("  diagnosis of lost points, the report, clean-up", total(lambda r: r.execution_time - sum(
            r.phases.get(p, 0.0) for p in ("read", "prepare", "sandbox", "judge")))),
        ("  data, once per worker (read, fingerprint)", total(lambda r: r.phases.get(DATA_PHASE, 0.0))),
    ]
    idle = [("command start: imports, checks, the client's data (workers start)", epoch, times.started),
            ("waiting for the first worker", times.started, times.engine_up),
            ("tasks running: worker time outside tasks", times.engine_up, times.last_result),
            ("recording tail: last record back to last recorded", times.last_result, times.recorded),
            ("CSV exports, summary, exit", times.recorded, epoch + wall)]
    in_tasks = times.last_result - times.engine_up - busy / k
    cpu, pages = sum(times.record_cpu_seconds.values()), sum(times.feedback_cpu_seconds.values())
    per = wall * k / n
    lines = [f"kit, {data_name(config)}, {n} notebooks, {k} workers: {wall:.1f} s; cost per submission {per:.2f} s "
             f"(wall x workers / notebooks) against the floor {train:.2f} s: {per / train:.2f}x (goal <= 1.2x)",
             f"  {'where the wall time goes (seconds of wall: worker-seconds / workers)':<68} {'s':>7} {'/sub':>6}"]
    rows = [(name, secs / k) for name, secs in parts]
    rows += [(name, (in_tasks if name.startswith("tasks") else end - begin)) for name, begin, end in idle]
    lines += [f"  {name:<68} {secs:7.1f} {secs * k / n:6.2f}" for name, secs in rows]
    lines.append(f"  {'sum (= wall)':<68} {sum(s for _, s in rows):7.1f}")
    lines.append(f"  recording (nice {RECORDER_NICENESS}, beside the grading), CPU per submission: the recorder thread "
                 f"{cpu / n:.2f} s, the feedback page {pages / n:.2f} s ({cpu + pages:.1f} s in all, "
                 f"{(cpu + pages) / (k * wall):.0%} of the {k} cores over the command)")
    lines.append(f"  the command's own peak memory (its scheduler, the recorder, the data as arrays; no torch): "
                 f"{times.command_peak_mb:.0f} MB")
    return lines


TORCH_ALONE = ("import torch, pathlib; print(next(int(line.split()[1]) / 1024 for line in "
               "pathlib.Path('/proc/self/status').read_text().splitlines() if line.startswith('VmRSS:')))")


def throughput(config: CourseConfig, notebook: Path, workers: int,
               per_worker: int) -> tuple[float, list[GradeReport], float]:
    """Submissions per second of `workers` warmed-up worker processes grading per_worker submissions each, their
    reports, and the largest worker's resident memory at rest after the warm-up (torch, the kit, the data)."""
    with engine(config, workers=workers) as client:
        client.wait_for_workers(workers)
        fingerprint = data_fingerprint(config, A)
        warm = [client.submit(grade_task, make_task(notebook, A, f"warm{i}", config), config, fingerprint,
                              workers=[w], allow_other_workers=False, pure=False)
                for i, w in enumerate(client.scheduler_info()["workers"])]
        client.gather(warm)
        at_rest = max(client.run(resident_mb).values())
        tasks = [make_task(notebook, A, f"s{i}", config) for i in range(workers * per_worker)]
        started = time.monotonic()
        futures = [client.submit(grade_task, t, config, fingerprint, pure=False) for t in tasks]
        reports = [GradeReport.from_dict(r) for r in client.gather(futures)]
        return len(tasks) / (time.monotonic() - started), reports, at_rest


def training_time(config: CourseConfig) -> float:
    """Seconds of the accuracy check's own training: the reference, its `epochs` setting, on the check's training
    batches (training_loader), in the grader's arithmetic (one thread, deterministic algorithms), in this process."""
    data = data_inputs(config, settings(config))
    with grading_arithmetic():
        torch.manual_seed(0)
        model = ref.MNISTModel()
        loader = training_loader(data, torch.Generator().manual_seed(0))
        optimizer = torch.optim.SGD(model.parameters(), lr=settings(config)["learning_rate"])
        started = time.monotonic()
        for _ in range(settings(config)["epochs"]):
            ref.train_epoch(model, loader, optimizer, nn.CrossEntropyLoss())
        return time.monotonic() - started


def memory(reports: list[GradeReport], at_rest: float) -> str:
    """Peak memory per task: the child's (its memory cgroup) and the worker's (resident, with what it holds at
    rest, most of it torch's own import)."""
    child = [r.peak_child_mb for r in reports]
    worker = [r.peak_worker_mb for r in reports]
    return (f"child {statistics.median(child):4.0f} MB median, {max(child):4.0f} max; worker "
            f"{statistics.median(worker):4.0f} MB median, {max(worker):4.0f} max ({at_rest:.0f} MB at rest)")


def settings(config: CourseConfig) -> dict:
    """part2_mnist's settings in `config`."""
    return config.assignment(A).settings


def data_name(config: CourseConfig) -> str:
    train = len(data_inputs(config, settings(config))["acc_train_labels"])
    return f"{settings(config)['dataset']} {train:,} train"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=4, help="notebooks of the stock-versus-kit comparison, offline data")
    p.add_argument("--full-size-n", type=int, default=2, help="the same at full size (0: skip)")
    p.add_argument("--per-worker", type=int, default=4, help="submissions per worker in the throughput runs")
    p.add_argument("--max-workers", type=int, default=cores(), help="largest worker count (default: every core)")
    args = p.parse_args()
    offline = load_config()
    torch_alone = subprocess.run([sys.executable, "-c", TORCH_ALONE], capture_output=True, text=True,
                                 check=True).stdout.strip()
    print(f"machine: {os.cpu_count()} CPUs, {cores()} usable; torch {torch.__version__}, whose import alone holds "
          f"{float(torch_alone):.0f} MB resident in a fresh interpreter")
    with tempfile.TemporaryDirectory(prefix="tensorgrade-bench-") as tmp:
        folder = Path(tmp)
        configs = [(offline, DEFAULT_CONFIG, args.n)]
        if args.full_size_n and has_real_files(FULL_SIZE, "FashionMNIST"):
            path = full_size_config(folder)
            configs.append((load_config(path), path, args.full_size_n))
        elif args.full_size_n:
            print(f"full size skipped: {FULL_SIZE} is missing (apt-get install dataset-fashion-mnist)")
        rows, breakdowns, trains = [], [], {}
        for config, path, n in configs:
            work = folder / settings(config)["dataset"]
            work.mkdir()
            # The kit before and after stock: this machine's speed drifts over the minutes stock takes.
            before = timed_autograde(config, path, n, work, stock=False, name="kit-before")
            stock = timed_autograde(config, path, n, work, stock=True)
            # The floor just before and just after the kit run it is set against: its mean follows the machine's
            # drift over that run (one measurement after it was off by up to a third).
            floors = [training_time(config)]
            kit = timed_autograde(config, path, n, work, stock=False)
            floors.append(training_time(config))
            trains[settings(config)["dataset"]] = statistics.mean(floors)
            rows.append((data_name(config), n, stock, before, kit))
            breakdowns.append(breakdown(config, n, kit.wall, kit.epoch, kit.root, trains[settings(config)["dataset"]])
                              + [f"  the floor, measured just before and just after this run: "
                                 f"{floors[0]:.2f} s and {floors[1]:.2f} s (their mean is used)"])
        print(f"\nstock nbgrader versus python -m autograder autograde ({cores()} workers), cold, wall time from the "
              "notebooks handed in to gradebook.db, every feedback page and grades.csv (stock: "
              f"{', then '.join('nbgrader ' + step[0] for step in STOCK_STEPS)}); the kit ran before and after stock, "
              "the speed-up is against their mean")
        print(f"{'data':<28} {'notebooks':>9} {'stock':>9} {'kit before':>11} {'kit after':>10} {'speed-up':>9}")
        for name, n, stock, before, kit in rows:
            kit_mean = (before.wall + kit.wall) / 2
            print(f"{name:<28} {n:>9} {stock.wall:>8.1f}s {before.wall:>10.1f}s {kit.wall:>9.1f}s "
                  f"{stock.wall / kit_mean:>8.1f}x")
            print(f"{'':<28} {'':>9} stock's steps: {', '.join(f'{k} {v:.1f} s' for k, v in stock.steps.items())}; "
                  f"against stock's autograde alone {stock.steps['autograde'] / kit_mean:.1f}x")
        for lines in breakdowns:
            print("\n" + "\n".join(lines))
        for config, _, _ in configs:
            notebook = folder / f"{settings(config)['dataset']}.ipynb"
            nbformat.write(solution_notebook(config, A), notebook)
            print(f"\nthroughput of the Dask engine, {data_name(config)}, {args.per_worker} submissions per worker "
                  "(warm workers)")
            print(f"{'workers':>7} {'submissions/s':>14} {'efficiency':>11}  peak memory per task")
            base = None
            for k in range(1, args.max_workers + 1):
                rate, reports, at_rest = throughput(config, notebook, k, args.per_worker)
                base = base or rate
                print(f"{k:>7} {rate:>14.2f} {rate / (k * base):>11.2f}  {memory(reports, at_rest)}")
            train = trains.get(settings(config)["dataset"]) or training_time(config)
            print(f"per submission with 1 worker {1 / base:.2f} s; the accuracy check's own training "
                  f"({settings(config)['epochs']} epochs, 1 thread) {train:.2f} s: ratio {1 / base / train:.2f}")


if __name__ == "__main__":
    main()
