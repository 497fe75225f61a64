"""An unprivileged grader gets its own cgroups on a cgroup v2 host with systemd: a delegated scope (issue #24).

This machine has cgroup v1, so the scope itself cannot be made here: these tests pin the decisions on a
folder laid out as cgroupfs shows a delegated scope, and that the command line re-runs a grading command in
the scope with the exit code passed back. CI runs `make demo` as an ordinary user (.ci/demo-as-user).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.sandbox import delegation
from autograder.sandbox.delegation import LEAF, delegated_root, own_v2_cgroup, reexec_command

SCOPE = "user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope"


def _scope(mount: Path, controllers: str = "cpuset cpu io memory pids", procs: str = "101\n102\n") -> Path:
    scope = mount / SCOPE
    scope.mkdir(parents=True)
    (scope / "cgroup.controllers").write_text(controllers + "\n")
    (scope / "cgroup.subtree_control").write_text("")
    (scope / "cgroup.procs").write_text(procs)
    return scope


def _proc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cgroup"
    path.write_text(text)
    return path


def test_own_v2_cgroup_is_read_from_the_single_v2_line_and_absent_on_cgroup_v1(tmp_path):
    assert own_v2_cgroup(_proc(tmp_path, f"0::/{SCOPE}\n"), tmp_path / "fs") == tmp_path / "fs" / SCOPE
    v1 = "12:pids:/user.slice\n11:memory:/user.slice\n0::/user.slice\n"
    assert own_v2_cgroup(_proc(tmp_path, v1), tmp_path / "fs") is None


def test_a_delegated_scope_moves_the_grader_into_its_leaf_and_hands_the_controllers_down(tmp_path):
    mount = tmp_path / "fs"
    scope = _scope(mount)
    assert delegated_root(_proc(tmp_path, f"0::/{SCOPE}\n"), mount) == scope
    assert (scope / LEAF / "cgroup.procs").read_text() == "102"  # each pid written in turn: the last one stays
    assert (scope / "cgroup.subtree_control").read_text() == f"+{delegation.CONTROLLERS[-1]}"


def test_a_worker_already_in_the_leaf_gets_the_scope_above_it_without_moving_anything(tmp_path):
    mount = tmp_path / "fs"
    scope = _scope(mount)
    (scope / LEAF).mkdir()
    assert delegated_root(_proc(tmp_path, f"0::/{SCOPE}/{LEAF}\n"), mount) == scope
    assert not (scope / LEAF / "cgroup.procs").exists()


def test_a_scope_without_the_memory_controller_is_no_delegation(tmp_path):
    mount = tmp_path / "fs"
    _scope(mount, controllers="cpu pids")
    assert delegated_root(_proc(tmp_path, f"0::/{SCOPE}\n"), mount) is None


def _as_user_on_v2(monkeypatch, trial_returncode: int) -> None:
    monkeypatch.setattr(delegation.os, "geteuid", lambda: 1000)
    monkeypatch.delenv(delegation.REEXEC_MARK, raising=False)
    monkeypatch.setattr(delegation, "own_v2_cgroup", lambda: Path("/sys/fs/cgroup") / SCOPE)
    monkeypatch.setattr(delegation, "delegated_root", lambda: None)
    monkeypatch.setattr(delegation.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(delegation.subprocess, "run",
                        lambda *a, **k: delegation.subprocess.CompletedProcess(a, trial_returncode))


def test_an_ordinary_user_on_cgroup_v2_reruns_the_command_in_a_systemd_scope_with_delegation(monkeypatch):
    _as_user_on_v2(monkeypatch, 0)
    command = reexec_command(["demo"])
    assert command[:command.index("--")] == ["systemd-run", "--user", "--scope", "--quiet", "-p", "Delegate=yes"]
    assert command[command.index("--") + 1:] == [sys.executable, "-m", "autograder", "demo"]


def test_no_rerun_where_systemd_cannot_start_a_user_scope_or_one_was_already_asked_for(monkeypatch):
    _as_user_on_v2(monkeypatch, 1)
    assert reexec_command(["demo"]) is None
    _as_user_on_v2(monkeypatch, 0)
    monkeypatch.setenv(delegation.REEXEC_MARK, "1")
    assert reexec_command(["demo"]) is None


def test_no_rerun_on_this_machine_as_root_or_on_cgroup_v1():
    if delegation.os.geteuid() != 0 and own_v2_cgroup() is not None:
        pytest.skip("an ordinary user on a cgroup v2 host: the rerun may apply here")
    assert reexec_command(["demo"]) is None


def test_the_command_line_reruns_a_grading_command_in_the_scope_and_returns_its_exit_code(monkeypatch):
    marked = "import os, sys; sys.exit(7 if os.environ.get(%r) else 9)" % delegation.REEXEC_MARK
    monkeypatch.setattr(delegation, "reexec_command", lambda argv: [sys.executable, "-c", marked])
    monkeypatch.delenv(delegation.REEXEC_MARK, raising=False)
    assert cli.main(["demo"]) == 7
