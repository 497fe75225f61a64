"""Seeds no one can predict: they follow the secret and everything the child can observe, nothing else."""
from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from autograder.config import load_config
from autograder.paths import release_notebook
from autograder.seeds import course_secret, derived_seed, seed_of, submission_seed
from autograder.submission import build_program
from tests.helpers import solution

A = "part1_regression"


def _seed(nb, student: str = "alice", config=None) -> int:
    config = config or load_config()
    release = nbformat.read(release_notebook(A, config.assignment(A).notebook), as_version=4)
    return seed_of(build_program(nb, release), A, config, student)


def test_the_same_notebook_gets_the_same_seed_whatever_its_outputs():
    nb = solution(A)
    changed = solution(A)
    changed.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="printed\n")]
    assert _seed(nb) == _seed(changed)


def test_other_code_another_student_or_another_term_get_other_seeds():
    nb = solution(A)
    edited = solution(A)
    edited.cells.append(nbformat.v4.new_code_cell("x = 1"))
    other_term = dataclasses.replace(load_config(), grading_seed=load_config().grading_seed + 1)
    seeds = {_seed(nb), _seed(edited), _seed(nb, student="bob"), _seed(nb, config=other_term)}
    assert len(seeds) == 4


def test_moving_code_cells_changes_the_seed():
    """The child sees each cell's number (tracebacks name <cell N>): a resubmission with the same code but
    markdown cells inserted must not get the same inputs, or it could carry last feedback's numbers in."""
    nb = solution(A)
    moved = solution(A)
    moved.cells.insert(3, nbformat.v4.new_markdown_cell("a note"))
    assert _seed(nb) != _seed(moved)


def test_the_secret_is_created_once_private_and_long(tmp_path):
    path = tmp_path / "secret"
    first = course_secret(path)
    assert course_secret(path) == first and len(first) >= 64
    assert path.stat().st_mode & 0o077 == 0


def test_graders_starting_together_on_a_new_course_all_read_the_same_whole_secret(tmp_path, monkeypatch):
    """Two graders' first submissions at once (grade_many's threads, two commands): neither may read the secret file
    between its creation and its text (once, every check of a submission scored 0 as a grader error)."""
    import autograder.seeds as seeds

    token_hex = seeds.secrets.token_hex
    monkeypatch.setattr(seeds.secrets, "token_hex", lambda n: (time.sleep(0.2), token_hex(n))[1])
    path = tmp_path / "course" / "secret"
    with ThreadPoolExecutor(4) as pool:
        read = list(pool.map(lambda _: course_secret(path), range(4)))
    assert len(set(read)) == 1 and len(read[0]) == 64
    assert path.stat().st_mode & 0o077 == 0 and [p.name for p in path.parent.iterdir()] == ["secret"]


def test_seeds_depend_on_the_secret_and_derived_seeds_on_their_label():
    args = (20261126, A, "alice", b"code")
    assert submission_seed(b"a" * 64, *args) != submission_seed(b"b" * 64, *args)
    seed = submission_seed(b"a" * 64, *args)
    assert len({derived_seed(seed, label) for label in ("cells", "test_model", "test_loss_fn")} | {seed}) == 4
    assert 0 <= seed < 2**63


def test_a_short_secret_is_refused(tmp_path):
    (tmp_path / "secret").write_text("abc\n")
    with pytest.raises(ValueError, match="shorter"):
        course_secret(tmp_path / "secret")
