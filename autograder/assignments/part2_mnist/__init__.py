"""Part 2: normalization, binary cross-entropy, and an MLP trained on MNIST with training and validation loops.

Its parts are listed in autograder/assignments/__init__.py (child/: what the sandbox mounts;
trusted/: what only the grader reads); its reference is solutions/part2_mnist.py.
"""
