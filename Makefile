# rosetta_stats: `make demo` and `make test` are all a newcomer needs.
PYTHON := .venv/bin/python
export TZ ?= UTC
REPORT_DIR ?= rosetta_report

.PHONY: setup setup-demo demo test test-fast test-python test-r check-r bench mutate clean

setup:
	@bash tools/setup.sh

setup-demo:
	@bash tools/setup.sh demo

demo: setup-demo
	@$(PYTHON) -m rosetta_stats.cli report --demo --out $(REPORT_DIR) --overwrite

test: setup
	@status=0; \
	$(PYTHON) -m pytest -q -p no:cacheprovider || status=$$?; \
	Rscript tools/run_testthat.R r_bridge/tests/testthat || status=$$?; \
	exit $$status

test-fast: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider -m "not slow"

test-python: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider

test-r: setup
	Rscript tools/run_testthat.R r_bridge/tests/testthat

check-r: setup
	@tmp=$$(mktemp -d) && cd $$tmp && R CMD build --no-build-vignettes $(CURDIR)/r_bridge >/dev/null && \
	ROSETTA_STATS_PYTHON=$(CURDIR)/$(PYTHON) _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual rosettabridge_*.tar.gz >check.log 2>&1; \
	status=$$?; tail -n 25 check.log; grep -q "Status: OK" check.log || status=1; rm -rf $$tmp; exit $$status

mutate: setup
	$(PYTHON) tools/mutate.py

bench: setup
	@$(PYTHON) benchmarks/run_all.py

clean:
	rm -rf .venv $(REPORT_DIR) *.egg-info
