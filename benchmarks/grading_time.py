"""Grading cost, measured side by side in one run (make benchmark).

Prints: what starting one sandbox child costs as a fresh interpreter importing torch,
torchvision and matplotlib versus a fork of the pre-loaded zygote; wall time per submission
for each assignment's solution notebook (cold first, then warm), a batch of submissions graded
PARALLEL_SUBMISSIONS at a time, and one epoch of the 784-512-10 MLP over a training set fed by
per-sample ToTensor/Normalize, pre-normalized tensors, and uint8 tensors normalized a batch at a time (what
the accuracy check feeds: the speed of the second without its float32 copy of every image). The epochs use the full
60,000 Fashion-MNIST images of Debian's dataset-fashion-mnist when it is installed, else the
course's own data.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms

from autograder.assignments.part2_mnist.child.inputs import training_loader
from autograder.assignments.part2_mnist.trusted.data import has_real_files, load_datasets
from autograder.assignments.part2_mnist.trusted.hooks import data_root
from autograder.authoring.build import solution_notebook
from autograder.batch import grade_many
from autograder.config import load_config
from autograder.grading import grade_notebook
from autograder.paths import data_cache
from autograder.sandbox.launcher import child_environment, zygote_environment
from autograder.sandbox.limits import Limits, isolation_mode
from autograder.sandbox.zygote import PRELOAD, run_request, shared_zygote
from solutions import part2_mnist as ref

REPEATS = 3
FULL_SIZE = Path("/usr/share/datasets/fashion-mnist")  # apt-get install dataset-fashion-mnist


def time_child_start(config, folder: Path) -> None:
    """A fresh interpreter importing what the notebooks use, versus a zygote fork entering its namespaces."""
    fresh = []
    for _ in range(REPEATS):
        started = time.monotonic()
        subprocess.run([sys.executable, "-I", "-c", f"import {', '.join(PRELOAD)}"], env=zygote_environment(),
                       check=True)
        fresh.append(time.monotonic() - started)
    zygote = shared_zygote(zygote_environment())
    request = run_request(folder / "no-spec.json", folder, child_environment(), Limits.from_config(config),
                          isolation_mode())
    forked = []
    for i in range(REPEATS + 1):  # the first waits for the zygote's own imports
        read_end, write_end = os.pipe()
        with open(folder / "child.log", "ab") as log:
            started = time.monotonic()
            child = zygote.spawn(request, write_end, log.fileno())
            child.wait()  # it stops at once: there is no spec to run
            forked.append(time.monotonic() - started)
        os.close(read_end)
        os.close(write_end)
    print(f"start of one sandbox child: fresh interpreter importing {len(PRELOAD)} modules "
          f"{statistics.median(fresh):5.2f} s; zygote fork into new namespaces {statistics.median(forked[1:]):5.3f} s "
          f"(medians of {REPEATS})")


def time_submissions(config, folder: Path) -> None:
    for assignment in config.assignments:
        path = folder / f"{assignment}.ipynb"
        nbformat.write(solution_notebook(config, assignment), path)
        times = []
        for _ in range(REPEATS):
            started = time.monotonic()
            report = grade_notebook(path, assignment, config)
            times.append(time.monotonic() - started)
        print(f"{assignment:<18} one submission: first {times[0]:5.1f} s, warm median "
              f"{statistics.median(times[1:]):5.1f} s   (score {report.score:g})")
    jobs = [(folder / f"{a}.ipynb", a) for a in config.assignments] * 2
    started = time.monotonic()
    grade_many(jobs, config)
    wall = time.monotonic() - started
    print(f"batch of {len(jobs)} submissions, {config.parallel_submissions or 'one per core'} at a time: {wall:5.1f} s "
          f"({wall / len(jobs):.1f} s per submission)")


def time_epochs(config) -> None:
    torch.set_num_threads(1)
    settings = config.assignment("part2_mnist").settings
    source, root, dataset = settings["data_source"], data_root(config, settings), settings["dataset"]
    if has_real_files(FULL_SIZE, "FashionMNIST"):
        source, root, dataset = "auto", FULL_SIZE, "FashionMNIST"
    raw_train, _ = load_datasets(source, root, dataset, cache=data_cache())
    pixels = raw_train.data.double() / 255
    mean, std = pixels.mean().item(), pixels.std().item()
    per_sample, _ = load_datasets(source, root, dataset, cache=data_cache(),
                                  transform=transforms.Compose([transforms.ToTensor(),
                                                                transforms.Normalize((mean,), (std,))]))
    tensors = TensorDataset(((raw_train.data.float() / 255 - mean) / std).unsqueeze(1), raw_train.targets)
    batch = settings["batch_size"]
    check = {"acc_train_images": raw_train.data, "acc_train_labels": raw_train.targets,
             "acc_batch": torch.tensor(batch), "acc_mean": torch.tensor([mean]), "acc_std": torch.tensor([std])}
    loaders = (("per-sample ToTensor/Normalize", DataLoader(per_sample, batch_size=batch, shuffle=True)),
               ("pre-normalized tensors", DataLoader(tensors, batch_size=batch, shuffle=True)),
               ("the check's: uint8, batch-indexed", training_loader(check, torch.Generator().manual_seed(0))))
    for name, loader in loaders:
        torch.manual_seed(0)
        model = ref.MNISTModel()
        started = time.monotonic()
        ref.train_epoch(model, loader, torch.optim.SGD(model.parameters(), lr=0.01), nn.CrossEntropyLoss())
        print(f"one epoch over {len(loader.dataset)} {dataset} images, {name:<34}: {time.monotonic() - started:5.2f} s "
              "(1 thread)")


def main() -> None:
    config = load_config()
    settings = config.assignment("part2_mnist").settings
    print(f"{settings['dataset']} via {settings['data_source']}; limits: {config.check_time_limit_s:g} s per check")
    with tempfile.TemporaryDirectory() as tmp:
        time_child_start(config, Path(tmp))
        time_submissions(config, Path(tmp))
    time_epochs(config)


if __name__ == "__main__":
    main()
