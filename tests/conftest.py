"""The kit's tests grade wherever they run: on a machine whose sandbox is weak (an unprivileged user without
writable cgroups), the command-line tests they start would refuse to grade, so the session allows weak isolation
through a copy of course_config.py ($TENSORGRADE_CONFIG). tests/test_isolation.py checks the refusal itself."""
from __future__ import annotations

import os

import pytest

from autograder.config import DEFAULT_CONFIG


@pytest.fixture(scope="session", autouse=True)
def allow_weak_isolation_where_the_machine_gives_no_more(tmp_path_factory):
    from autograder.sandbox.limits import isolation

    if isolation().full or os.environ.get("TENSORGRADE_CONFIG"):
        yield
        return
    copy = tmp_path_factory.mktemp("config") / "course_config.py"
    copy.write_text(DEFAULT_CONFIG.read_text().replace("ALLOW_WEAK_ISOLATION = False", "ALLOW_WEAK_ISOLATION = True"))
    os.environ["TENSORGRADE_CONFIG"] = str(copy)
    print(f"\ntensorgrade tests: this machine gives {isolation().describe()}; the tests allow it")
    try:
        yield
    finally:
        os.environ.pop("TENSORGRADE_CONFIG", None)
