# The grader in a container, with full isolation when run with the flags of docs/sandbox.md
# ("Running the grader in a container with full isolation"):
#   docker build -t tensorgrade .
#   docker run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#       --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$PWD/course:/course" tensorgrade \
#       .venv/bin/python -m autograder autograde part1_regression --course /course
# Without those flags, `grade` and `autograde` stop and say what is missing (ALLOW_WEAK_ISOLATION).
FROM python:3.11-slim

# util-linux: unshare(1), with which the kit probes for namespaces; make: the documented commands.
RUN apt-get update \
    && apt-get install -y --no-install-recommends util-linux make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/tensorgrade
# Dependencies first (the slow layer), then the kit, installed as `make setup` does.
COPY pyproject.toml README.md ./
COPY autograder/__init__.py autograder/__init__.py
RUN python3 -m venv .venv \
    && .venv/bin/python -m pip install --quiet --disable-pip-version-check -e . \
    && touch .venv/.installed
COPY . .
RUN .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . \
    && touch .venv/.installed

ENV PATH=/srv/tensorgrade/.venv/bin:$PATH
CMD ["make", "demo"]
