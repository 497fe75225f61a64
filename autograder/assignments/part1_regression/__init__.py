"""Part 1: tensors, linear regression by gradient descent, optimizers and schedulers, nn.Module networks.

Its parts are listed in autograder/assignments/__init__.py (child/: what the sandbox mounts;
trusted/: what only the grader reads); its reference is solutions/part1_regression.py.
"""
