# warcforge: `make run` builds the embedded sample, `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/sample.yaml
SAMPLE ?= build/sample
OUTPUT ?= build/output
RUN_ARGS ?=

.PHONY: venv sample run test lint bench clean flink-up flink-down image

# The venv is rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "warcforge needs Python 3.10+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

sample: venv
	$(BIN)/warcforge sample $(SAMPLE)

run: sample
	$(BIN)/warcforge build --config $(CONFIG) --output $(OUTPUT) --overwrite $(RUN_ARGS)

# ruff, then the import contracts in pyproject.toml (the layering: jobs > stages > common; Beam only in stage.py).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Two test processes (pytest-xdist), each given whole files, so a module's cluster or server starts once. Much
# of the suite waits on JVMs, servers and child processes: on CI's 2 cores it took 15 min, against 23 in one.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Speed is measured here, never asserted in tests; figures go to docs/ (the cost model, docs/scale.md, last).
bench: venv
	$(BIN)/python bench/read_overhead.py
	$(BIN)/python bench/extraction_quality.py
	$(BIN)/python bench/filter_cost.py
	$(BIN)/python bench/filter_parity.py
	$(BIN)/python bench/near_dedup.py
	$(BIN)/python bench/pipeline_throughput.py
	$(BIN)/python bench/instruction_counts.py
	$(BIN)/python bench/time_shares.py
	$(BIN)/python bench/hot_bucket_memory.py
	$(BIN)/python bench/progress_overhead.py
	$(BIN)/python bench/shard_memory.py
	$(BIN)/python bench/flink_per_core.py
	$(BIN)/python bench/scale_model.py

# A Flink session cluster on loopback (deploy/flink/local-cluster.sh; Flink from the package index,
# cached in ~/.cache/warcforge). FLINK_REST_PORT picks the REST port (8081).
flink-up: venv
	PYTHON=$(BIN)/python deploy/flink/local-cluster.sh up

flink-down:
	PYTHON=$(BIN)/python deploy/flink/local-cluster.sh down

# The worker SDK image for Dataflow and Flink on Kubernetes (needs a Docker daemon).
IMAGE ?= warcforge/worker:0.2.0
image:
	docker build -f deploy/docker/Dockerfile -t $(IMAGE) .

clean:
	rm -rf build $(VENV) *.egg-info .pytest_cache .ruff_cache .import_linter_cache
