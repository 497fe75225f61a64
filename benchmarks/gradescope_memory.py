"""Peak memory of the Gradescope zip's run_autograder, per assignment, inside a memory cgroup like a container's.

For each assignment: build its zip, unpack it into a temporary folder standing in for /autograder, submit the
reference solution notebook, and run run_autograder in a fresh cgroup (v1 memory controller, under this
process's own) limited to --limit-mb, as Gradescope's container would limit it. Prints the exit code, whether
the kernel killed anything for memory, the peak of the whole tree (grader, zygote and sandbox children:
memory.max_usage_in_bytes) and the score. --import-only measures `import torch` alone with --python, for a
Python whose torch cannot run the kit (the CPU-only wheel without a matching torchvision).

    python benchmarks/gradescope_memory.py --limit-mb 768
    python benchmarks/gradescope_memory.py --import-only --python /tmp/cpuvenv/bin/python
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

from autograder.config import load_config
from autograder.gradescope import build_autograder_zip

MIB = 1024 * 1024
MEMORY_V1 = Path("/sys/fs/cgroup/memory")


def _own_memory_cgroup() -> Path:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return MEMORY_V1 / path.lstrip("/")
    raise SystemExit("no v1 memory cgroup here (this measurement needs /sys/fs/cgroup/memory writable)")


def run_in_cgroup(command: list[str], limit_mb: int, env: dict | None = None) -> tuple[int, float, int, str]:
    """Run `command` in a fresh memory cgroup of `limit_mb`: (exit code, peak MiB, OOM kills, stdout tail)."""
    cgroup = _own_memory_cgroup() / f"tensorgrade-measure-{uuid.uuid4().hex[:8]}"
    cgroup.mkdir()
    try:
        (cgroup / "memory.limit_in_bytes").write_text(str(limit_mb * MIB))
        (cgroup / "memory.memsw.limit_in_bytes").exists() and (cgroup / "memory.memsw.limit_in_bytes").write_text(
            str(limit_mb * MIB))
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900,
                              preexec_fn=lambda: (cgroup / "cgroup.procs").write_text(str(os.getpid())))
        peak = int((cgroup / "memory.max_usage_in_bytes").read_text()) / MIB
        oom = dict(line.split() for line in (cgroup / "memory.oom_control").read_text().splitlines())
        return done.returncode, peak, int(oom.get("oom_kill", 0)), (done.stdout + done.stderr)[-1500:]
    finally:
        for _ in range(50):
            try:
                cgroup.rmdir()
                break
            except OSError:
                import time
                time.sleep(0.1)


def grade_reference(assignment: str, limit_mb: int, python: str) -> None:
    """Build the zip, grade the reference with its run_autograder in a cgroup of limit_mb; print the figures."""
    from autograder.authoring.build import solution_notebook

    config = load_config()
    with tempfile.TemporaryDirectory(prefix="tensorgrade-gs-") as tmp:
        root = Path(tmp) / "autograder"
        with zipfile.ZipFile(build_autograder_zip(config, assignment, Path(tmp) / "a.zip")) as zf:
            zf.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        (root / "run_autograder").chmod(0o755)
        (root / "submission").mkdir(parents=True)
        import nbformat

        nbformat.write(solution_notebook(config, assignment),
                       root / "submission" / config.assignment(assignment).notebook)
        env = {k: v for k, v in os.environ.items() if k != "TENSORGRADE_CONFIG"}
        env.update(AUTOGRADER_ROOT=str(root), TENSORGRADE_PYTHON=python,
                   PATH=f"{Path(python).parent}:{env.get('PATH', '')}")
        code, peak, kills, tail = run_in_cgroup([str(root / "run_autograder")], limit_mb, env)
        results = root / "results" / "results.json"
        score = json.loads(results.read_text()).get("score") if results.is_file() else None
        print(f"{assignment:<18} limit {limit_mb:>5} MB  exit {code:>3}  peak {peak:6.0f} MB  OOM kills {kills}  "
              f"score {score}", flush=True)
        if code != 0:
            print("  " + tail.replace("\n", "\n  "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=int, default=768, help="the container's memory (Gradescope's default: "
                                                                  "768)")
    parser.add_argument("--python", default=sys.executable, help="the Python run_autograder uses")
    parser.add_argument("--import-only", action="store_true", help="measure `import torch` alone")
    parser.add_argument("assignments", nargs="*", help="default: every assignment in course_config.py")
    args = parser.parse_args()
    if args.import_only:
        code, peak, kills, tail = run_in_cgroup([args.python, "-c", "import torch; print(torch.__version__)"],
                                                args.limit_mb)
        print(f"import torch ({tail.strip().splitlines()[-1]}) with {args.python}: peak {peak:.0f} MB, exit {code}, "
              f"OOM kills {kills}")
        return
    for assignment in args.assignments or list(load_config().assignments):
        grade_reference(assignment, args.limit_mb, args.python)


if __name__ == "__main__":
    main()
