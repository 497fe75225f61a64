"""nbgrader's Gradebook, opened about ten times per recorded submission, through one SQLAlchemy engine per database in
a process (autograder.nbgrader_setup.share_gradebook_engines): the same reads and writes, its compiled queries kept."""
from __future__ import annotations

import threading

import nbgrader.api
import sqlalchemy
from nbgrader.api import Gradebook

from autograder.nbgrader_setup import _shared_engine, nbgrader_api, share_gradebook_engines


def _counted_engines(monkeypatch) -> list[str]:
    made = []
    real = sqlalchemy.create_engine
    monkeypatch.setattr(sqlalchemy, "create_engine", lambda url, **kw: (made.append(url), real(url, **kw))[1])
    _shared_engine.cache_clear()
    share_gradebook_engines()
    return made


def test_every_gradebook_of_a_database_opens_through_one_engine_and_reads_what_the_last_one_wrote(tmp_path,
                                                                                                monkeypatch):
    made = _counted_engines(monkeypatch)
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    engines = []
    for i in range(5):
        with Gradebook(first, "course101") as gb:
            assert [s.id for s in gb.students] == [f"s{j}" for j in range(i)]
            gb.add_student(f"s{i}")
            engines.append(gb.engine)
        assert gb.engine.pool.checkedout() == 0, "a closed gradebook keeps a connection open"
    with Gradebook(second, "course101") as gb:
        assert gb.students == [] and gb.engine is not engines[0]
    assert all(engine is engines[0] for engine in engines) and made == [first, second]


def test_a_gradebook_removed_and_made_again_reads_as_new(tmp_path, monkeypatch):
    _counted_engines(monkeypatch)
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "course101") as gb:
        gb.add_student("s0")
    (tmp_path / "gradebook.db").unlink()
    with Gradebook(url, "course101") as gb:
        assert gb.students == []


def test_gradebooks_opened_and_closed_in_two_threads_at_once_each_read_their_own_writes(tmp_path, monkeypatch):
    """The recorder's thread and the batch's own thread both open the course's gradebook; one's close (which
    disposes of the engine's pooled connections) must not break the other's session."""
    _counted_engines(monkeypatch)
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "course101"):
        pass
    errors = []

    def work(name: str) -> None:
        try:
            for i in range(20):
                with Gradebook(url, "course101") as gb:
                    gb.add_student(f"{name}{i}")
                    assert gb.find_student(f"{name}{i}").id == f"{name}{i}"
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Gradebook(url, "course101") as gb:
        assert len(gb.students) == 40


def test_nbgraders_api_for_a_course_opens_its_gradebooks_through_the_shared_engines(tmp_path):
    nbgrader_api(tmp_path)
    assert nbgrader.api.create_engine is _shared_engine
