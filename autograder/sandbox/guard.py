"""Undo student monkeypatching of the libraries and grader code the probes rely on.

Student code runs in the same interpreter as the probes, so it can replace torch.equal,
builtins.isinstance, a method of torch.Tensor or nn.Module, or a function of the grader
itself (through gc or frames: the grader's modules cannot be imported by name). The child
takes a snapshot before the first student cell; `heal()` puts every snapshotted attribute back.
It runs after each student cell, before each probe, after each
call into student code and before evidence is sent, so a patch never outlives the student
code that made it. What it cannot undo (data reachable through frames, threads racing the
probe) is why the hidden suites judge values the trusted process recomputes, why the recorder
sends each record the moment it is made, and why `left_running` counts the threads and child
processes beside the probe: a probe whose student code leaves one running is void. Student code can
switch this guard off (it runs in the same process), so the launcher counts again from outside at
every probe's end (census.py); the guard's count only adds the looks between two records.

A function's body and defaults (__code__, __defaults__, __kwdefaults__) are never put back: from the guard's
creation on, its audit hook refuses to have them replaced at all (`refuse_function_rewrites`), for the grader's
functions and the libraries' alike.
"""
from __future__ import annotations

import gc
import os
import sys
import threading
import types
from itertools import repeat
from operator import is_not

_MISSING = object()
# heal() uses these, never the names in builtins, which student code may have replaced.
_any, _map, _zip, _len, _vars, _hasattr, _type_setattr, _type_delattr = (
    any, map, zip, len, vars, hasattr, type.__setattr__, type.__delattr__)
_settrace, _setprofile = sys.settrace, sys.setprofile
_setrecursionlimit, _RECURSION_LIMIT = sys.setrecursionlimit, sys.getrecursionlimit()
_thread_settrace, _thread_setprofile = threading.settrace, threading.setprofile
_listdir, _open, _getpid, _waitpid, _WNOHANG = os.listdir, open, os.getpid, os.waitpid, os.WNOHANG


def _threads() -> int:
    """This process's threads, as the kernel counts them (Python's, and any started through _thread or ctypes)."""
    return _len(_listdir("/proc/self/task"))


def _children() -> int:
    """Processes whose parent is this one, after reaping those that exited (in the sandbox's PID namespace,
    every orphan of student code is reparented here, so this counts all of them)."""
    try:
        while _waitpid(-1, _WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    me, count = str(_getpid()), 0
    for entry in _listdir("/proc"):
        if entry.isdigit():
            try:
                with _open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[-1].split()
            except OSError:
                continue
            count += fields[1:2] == [me.encode()]
    return count


def running_phrase(threads: int, processes: int) -> str:
    """Threads and processes left running, in words ("2 threads and 1 process"), or "" for none (the guard's
    count and the launcher's, census.py, say it alike)."""
    found = [f"{n} {word}{'s' * (n > 1)}" for n, word in ((threads, "thread"), (processes, "process")) if n > 0]
    return " and ".join(found).replace("processs", "processes")


# The attributes of a function that hold what it does. Python raises the audit event "object.__setattr__" before
# replacing any of them, and "object.__getattr__" on reading them: a heal() that compared each snapshotted
# function's would run every audit hook of the child 3,300 times (2 ms a heal, a third of a second a submission).
_FUNCTION_INTERNALS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})


def refuse_function_rewrites(event: str, args: tuple, _function: type = types.FunctionType,
                             _internals: frozenset = _FUNCTION_INTERNALS) -> None:
    """Audit hook: no function's body or defaults may be replaced (a student cell making Recorder.note or
    torch.nn.Module.parameters do something else raises PermissionError instead). Its constants are default
    arguments, which it refuses to have replaced too; a class's attributes (event args: the class, a name) are
    heal()'s."""
    if event == "object.__setattr__" and args[0].__class__ is _function and args[1] in _internals:
        raise PermissionError(f"replacing a function's {args[1]} is not allowed while grading")


# Libraries whose module namespaces are restored (attributes replaced by student code).
MODULES = ("builtins", "torch", "torch._C", "torch.nn", "torch.nn.functional", "torch.nn.modules.module",
           "torch.autograd", "torch.autograd.gradcheck", "torch.optim", "torch.optim.optimizer",
           "torch.utils.data", "torch.utils.data.dataloader", "torch.functional", "torch.serialization",
           "json", "os", "io", "math", "operator", "copy", "functools", "itertools", "numpy",
           "safetensors.torch", "PIL.Image", "torchvision.transforms", "torchvision.transforms.functional")
# Grader packages: every module, class and function in them is restored.
GRADER_PREFIXES = ("autograder",)


class Guard:
    """Snapshot of patchable library and grader objects; heal() restores them.

    The snapshot is kept in tuples, not dicts: student code scanning gc.get_objects() for a
    dict that looks like a module's globals must not find (and poison) the saved copy.
    """

    __slots__ = ("_owners", "_keys", "_values", "_is_class", "_meta_path", "_path_hooks", "_gc_callbacks",
                 "_stdout", "_stderr", "_threads")

    def __init__(self, grader_modules=()) -> None:
        """grader_modules: the grader's own modules (no longer in sys.modules once hidden). From here on, this
        process refuses every rewrite of a function's body or defaults (refuse_function_rewrites)."""
        sys.addaudithook(refuse_function_rewrites)
        namespaces: list[tuple[object, dict, bool]] = []  # (owner, saved vars, is_class)
        seen: set[int] = set()

        def take_class(cls: type) -> None:
            if id(cls) not in seen:
                seen.add(id(cls))
                namespaces.append((cls, dict(vars(cls)), True))

        def take_module(module: types.ModuleType, deep: bool) -> None:
            if id(module) in seen:
                return
            seen.add(id(module))
            saved = dict(vars(module))
            namespaces.append((module, saved, False))
            for value in saved.values():
                if deep and isinstance(value, type) and getattr(value, "__module__", "") == module.__name__:
                    take_class(value)

        for name in MODULES:
            module = sys.modules.get(name)
            if module is not None:
                take_module(module, deep=False)
        grader = [m for n, m in sys.modules.items() if n.split(".")[0] in GRADER_PREFIXES]
        for module in [*grader, *grader_modules]:
            if isinstance(module, types.ModuleType):
                take_module(module, deep=True)
        import torch
        from torch.utils.data import DataLoader, Dataset, TensorDataset

        for cls in (torch.Tensor, torch.nn.Parameter, torch.nn.Module, torch.nn.Linear, torch.nn.Sequential,
                    torch.nn.ReLU, torch.nn.CrossEntropyLoss, torch.optim.Optimizer, torch.optim.SGD,
                    torch.optim.Adam, DataLoader, Dataset, TensorDataset, torch.Generator, Guard):
            take_class(cls)
        self._owners = tuple(owner for owner, _, _ in namespaces)
        self._keys = tuple(tuple(saved) for _, saved, _ in namespaces)
        self._values = tuple(tuple(saved.values()) for _, saved, _ in namespaces)
        self._is_class = tuple(is_class for _, _, is_class in namespaces)
        self._meta_path = tuple(sys.meta_path)
        self._path_hooks = tuple(sys.path_hooks)
        self._gc_callbacks = tuple(gc.callbacks)
        self._stdout, self._stderr = sys.__stdout__, sys.__stderr__
        self._threads = _threads()  # before the first student cell

    def left_running(self) -> str:
        """What student code left running beside the grader ("2 threads", "1 process"), or ""."""
        return running_phrase(_threads() - self._threads, _children())

    def heal(self) -> None:
        """Put back every snapshotted attribute; drop tracing hooks."""
        _settrace(None)
        _setprofile(None)
        _setrecursionlimit(_RECURSION_LIMIT)
        _thread_settrace(None)  # type: ignore[arg-type]
        _thread_setprofile(None)  # type: ignore[arg-type]
        for owner, keys, values, is_class in _zip(self._owners, self._keys, self._values, self._is_class):
            current = _vars(owner)
            if (not _any(_map(is_not, values, _map(current.get, keys, repeat(_MISSING))))
                    and (not is_class or _len(current) == _len(keys))):
                continue
            for key, value in _zip(keys, values):
                if current.get(key, _MISSING) is not value:
                    try:
                        if is_class:
                            _type_setattr(owner, key, value)
                        else:
                            current[key] = value  # type: ignore[index]
                    except (TypeError, AttributeError):
                        pass
            if is_class and _len(current) != _len(keys):
                # A new attribute that shadows an inherited one (torch.Tensor.equal over
                # TensorBase.equal) is a patch; a brand-new name is left alone.
                bases = owner.__mro__[1:]  # type: ignore[attr-defined]
                known = frozenset(keys)
                for key in [k for k in current if k not in known and _any(_hasattr(b, k) for b in bases)]:
                    try:
                        _type_delattr(owner, key)
                    except (TypeError, AttributeError):
                        pass
        sys.meta_path[:] = self._meta_path
        sys.path_hooks[:] = self._path_hooks
        gc.callbacks[:] = self._gc_callbacks
        sys.__stdout__, sys.__stderr__ = self._stdout, self._stderr
