# rosetta_stats: `make demo` and `make test` are all a newcomer needs.
PYTHON := .venv/bin/python
export TZ ?= UTC
REPORT_DIR ?= rosetta_report

.PHONY: setup demo test test-python test-r bench clean

setup:
	@bash tools/setup.sh

demo: setup
	@$(PYTHON) -m rosetta_stats.cli report --demo --out $(REPORT_DIR)

test: setup
	@status=0; \
	$(PYTHON) -m pytest -q -p no:cacheprovider || status=$$?; \
	Rscript tools/run_testthat.R r_bridge/tests/testthat || status=$$?; \
	exit $$status

test-python: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider

test-r: setup
	Rscript tools/run_testthat.R r_bridge/tests/testthat

bench: setup
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(PYTHON) $$script || exit 1; \
	done

clean:
	rm -rf .venv $(REPORT_DIR) *.egg-info
