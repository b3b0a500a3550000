# SinGAN on MindSpore. `make help` lists the targets. Every target creates .venv first if needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

IMG ?=
MASK ?=
RUN ?=
REF ?=
N ?= 8
ARGS ?=
DIR ?=
# train-folder: workers on this machine (one core each, under msrun) and msrun's port.
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
PORT ?= 8118
COLLECTION = $(or $(OUT),runs/collections/$(notdir $(abspath $(DIR))))
HYPOTHESIS_PROFILE ?= $(if $(CI),ci,dev)
# make test: parallel workers (pytest-xdist), one per core, at most 4. Most of a tiny training is
# MindSpore compiling its graphs on one thread, so two workers on 2 cores take half the time.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

.DEFAULT_GOAL := help
.PHONY: help venv train train-folder generate animate harmonize edit paint sr eval compare report test test-unit bench clean

help: ## list the targets
	@echo "usage: make TARGET [VAR=value]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "variables: IMG=image MASK=mask RUN=run-folder REF='folders' N=count ARGS='extra CLI flags' HYPOTHESIS_PROFILE=dev|ci|thorough"
	@echo "           DIR=folder WORKERS=n (default: cores, at most 4) OUT=collection-folder PORT=msrun-port"
	@echo "           TEST_WORKERS=n (make test's parallel workers; default: cores, at most 4)"

# The environment is rebuilt only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@# compile the oneDNN convolutions now (cached; training falls back to MindSpore's if this cannot)
	@$(PY) -c 'from adapters.mindspore.native import conv_choice; print(conv_choice().note)'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install the project (MindSpore CPU included)

train: $(STAMP) ## train (quick preset) on IMG, default the embedded image; ARGS='--preset paper' etc.
	$(PY) -m app train $(IMG) $(ARGS)

# More than one worker: msrun starts them, one core each; the dry run first turns a bad folder or
# a clashing collection into one line, before msrun starts anything.
train-folder: $(STAMP) ## one model per image of DIR: make train-folder DIR=photos [WORKERS=2] [ARGS='--preset paper']
	@test -n "$(DIR)" || { echo "make train-folder needs DIR=folder of images" >&2; exit 2; }
	@$(PY) -m app train-folder $(DIR) --out $(COLLECTION) $(ARGS) --dry-run > /dev/null
ifeq ($(WORKERS),1)
	$(PY) -m app train-folder $(DIR) --out $(COLLECTION) $(ARGS)
else
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/msrun --worker_num=$(WORKERS) --local_worker_num=$(WORKERS) \
		--join=True --bind_core=True --master_port=$(PORT) --log_dir=$(COLLECTION)/logs \
		$(abspath $(VENV))/bin/singan train-folder $(DIR) --out $(COLLECTION) $(ARGS)
endif

generate: $(STAMP) ## write N random samples from RUN: make generate RUN=runs/00001-x N=8
	@test -n "$(RUN)" || { echo "make generate needs RUN=path/to/run" >&2; exit 2; }
	$(PY) -m app generate $(RUN) -n $(N) $(ARGS)

animate: $(STAMP) ## GIF of a random walk: make animate RUN=... [ARGS='--frames 48 --start-scale 1']
	@test -n "$(RUN)" || { echo "make animate needs RUN=path/to/run" >&2; exit 2; }
	$(PY) -m app animate $(RUN) $(ARGS)

harmonize: $(STAMP) ## make harmonize RUN=... IMG=composite.png [MASK=mask.png]
	@test -n "$(RUN)" -a -n "$(IMG)" || { echo "make harmonize needs RUN=... IMG=..." >&2; exit 2; }
	$(PY) -m app harmonize $(RUN) $(IMG) $(MASK) $(ARGS)

edit: $(STAMP) ## make edit RUN=... IMG=edited.png [MASK=mask.png]
	@test -n "$(RUN)" -a -n "$(IMG)" || { echo "make edit needs RUN=... IMG=..." >&2; exit 2; }
	$(PY) -m app edit $(RUN) $(IMG) $(MASK) $(ARGS)

paint: $(STAMP) ## make paint RUN=... IMG=painting.png [ARGS=--quantize]
	@test -n "$(RUN)" -a -n "$(IMG)" || { echo "make paint needs RUN=... IMG=..." >&2; exit 2; }
	$(PY) -m app paint $(RUN) $(IMG) $(ARGS)

sr: $(STAMP) ## super-resolution: make sr IMG=low-res.png [ARGS='--factor 4']
	@test -n "$(IMG)" || { echo "make sr needs IMG=path/to/image" >&2; exit 2; }
	$(PY) -m app sr $(IMG) $(ARGS)

eval: $(STAMP) ## metrics of RUN (SWD, diversity, reconstruction): make eval RUN=... [N=50]
	@test -n "$(RUN)" || { echo "make eval needs RUN=path/to/run" >&2; exit 2; }
	$(PY) -m app eval $(RUN) -n $(if $(filter command line,$(origin N)),$(N),50) $(ARGS)

compare: $(STAMP) ## RUN's samples against folders of images: make compare RUN=... REF="dir1 dir2" [N=50]
	@test -n "$(RUN)" || { echo "make compare needs RUN=path/to/run [REF='folder ...']" >&2; exit 2; }
	$(PY) -m app compare $(RUN) $(REF) -n $(if $(filter command line,$(origin N)),$(N),50) $(ARGS)

report: $(STAMP) ## write RUN/report.html: make report RUN=...
	@test -n "$(RUN)" || { echo "make report needs RUN=path/to/run" >&2; exit 2; }
	$(PY) -m app report $(RUN)

test: $(STAMP) ## run every test (unit, real MindSpore integration, end to end) on TEST_WORKERS workers
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(ARGS)

test-unit: $(STAMP) ## the fast tests only (domain, image adapter, use cases with fakes)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest tests/unit $(ARGS)

bench: $(STAMP) ## speed and memory per scale (paper preset); table + bench-out/bench.json
	$(PY) benchmarks/bench.py $(ARGS)

clean: ## remove caches (keeps .venv and runs/)
	rm -rf .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -not -path './.venv/*' -exec rm -rf {} +
