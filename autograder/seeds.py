"""Seeds no one can predict: each submission's inputs derive from a course secret and the submission.

    submission_seed(secret, grading seed, assignment, student, notebook bytes) -> seed
    seed_of(program, assignment, config, student) -> that seed, of a submission's program
    derived_seed(seed, label) -> the seed of one phase ("cells", a probe's grade id)

A resubmission (other bytes) or another student gets other inputs, so expected values in last
time's feedback are worthless; the same notebook file graded again gets the same seed, on any
worker. The child only ever sees derived seeds, never the submission's seed or the secret.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import CourseConfig
    from .submission import Program

SECRET_BYTES = 32
SEED_BITS = 63


def course_secret(path: Path) -> bytes:
    """The course's grading secret, created (random, readable by its owner only) on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_whole(path, secrets.token_hex(SECRET_BYTES) + "\n")
    text = path.read_text().strip()
    if len(text) < 2 * SECRET_BYTES:
        raise ValueError(f"the grading secret in {path} is shorter than {SECRET_BYTES} bytes of hex")
    return text.encode()


def _create_whole(path: Path, text: str) -> None:
    """Create `path` holding `text` (owner-only) unless it exists, all at once: a grader reading it at the same
    moment (another thread or process on its first submission) sees no file or the whole of it, never an empty one.
    Where two create it together, the first one's text stands."""
    fd, written = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        with contextlib.suppress(FileExistsError):  # another grader's secret a moment ago: theirs stands
            os.link(written, path)
    finally:
        os.unlink(written)


def _to_seed(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


def submission_seed(secret: bytes, grading_seed: int, assignment: str, student: str, notebook: bytes) -> int:
    """The seed of one submission: HMAC of the course secret over what identifies the submission."""
    content = hashlib.sha256(notebook).hexdigest()
    message = f"{grading_seed}\0{assignment}\0{student}\0{content}".encode()
    return _to_seed(hmac.new(secret, message, hashlib.sha256).digest())


def seed_of(program: Program, assignment: str, config: CourseConfig, student: str = "") -> int:
    """The submission's seed: the course secret, the term's GRADING_SEED, the assignment, the student and
    everything of the program the child can observe: each cell's code and its number in the notebook
    (not outputs or locked cells). A resubmission that moves a cell gets new inputs too."""
    content = json.dumps([[cell["index"], cell["source"]] for cell in program.cells]).encode()
    return submission_seed(course_secret(config.grading_secret_file), config.grading_seed, assignment, student,
                           content)


def derived_seed(seed: int, label: str) -> int:
    """A seed for one use of a submission's seed (a probe, the student's cells), unrelated to the others."""
    return _to_seed(hashlib.sha256(f"{seed}\0{label}".encode()).digest())
