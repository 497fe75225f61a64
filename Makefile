# The documented way to do everything. Tools run from .venv/bin (nbgrader needs alembic on PATH).
VENV    := .venv
BIN     := $(CURDIR)/$(VENV)/bin
PY      := $(BIN)/python
STAMP   := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: setup demo test test-quick lint new-assignment source release solutions benchmark calibrate diagnosis-rate clean

setup: $(STAMP)

# Re-install only when the declared dependencies change (pyproject.toml is newer than the stamp).
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m autograder demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(PY) -m pytest -q

test-quick: $(STAMP)
	$(BIN)/ruff check .
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

# make new-assignment NAME=part3_cnn: a folder, a reference and a config entry, released and gradeable.
new-assignment: $(STAMP)
	$(PY) -m autograder new-assignment $(NAME)

# Source notebooks are built from solutions/ and authoring/; release/ from source/ by nbgrader.
source: $(STAMP)
	$(PY) -m autograder build-source

release: $(STAMP)
	$(PY) -m autograder release

solutions: $(STAMP)
	$(PY) -m autograder build-solutions

# BENCH_ARGS="--n 32 --full-size-n 32" for the issue's full comparison (about 30 minutes on 2 cores).
benchmark: $(STAMP)
	$(PY) benchmarks/grading_time.py
	$(PY) benchmarks/scaling.py $(BENCH_ARGS)

calibrate: $(STAMP)
	$(PY) benchmarks/calibrate_accuracy.py

# Grade every mutant once: how many get the right known mistake named, a wrong one, none.
diagnosis-rate: $(STAMP)
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/diagnosis_rate.py

# Removes what the kit rebuilds; never the course's grades (gradebook.db, submitted/, ...) nor the grading
# secret (.cache/grading-secret): every grading machine shares it, and a new one changes every regrade.
clean:
	rm -rf build .pytest_cache
	find .cache -mindepth 1 -maxdepth 1 ! -name grading-secret -exec rm -rf {} + 2>/dev/null || true
