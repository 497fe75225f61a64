"""One batch of the kit alone, with the breakdown `make benchmark` prints for it (no stock nbgrader, no throughput).

For comparing two commits side by side: run it in each one's tree, alternating, and read the rounds together.

    python benchmarks/kit_batch.py [--n 32] [--full-size]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from scaling import breakdown, full_size_config, timed_autograde, training_time

from autograder.config import DEFAULT_CONFIG, load_config


def main() -> None:
    """Grade N copies of the reference in a fresh course, then measure the floor, and print the breakdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="notebooks (copies of the part2_mnist reference)")
    parser.add_argument("--full-size", action="store_true", help="the 60,000 Fashion-MNIST images of Debian's "
                        "dataset-fashion-mnist instead of the course's offline data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tensorgrade-batch-") as tmp:
        folder = Path(tmp)
        path = full_size_config(folder) if args.full_size else DEFAULT_CONFIG
        config = load_config(path)
        run = timed_autograde(config, path, args.n, folder, stock=False)
        print("\n".join(breakdown(config, args.n, run.wall, run.epoch, run.root, training_time(config))))


if __name__ == "__main__":
    main()
