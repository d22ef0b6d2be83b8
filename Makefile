# Two entry points on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs the package (torch pinned by constraints.txt) on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Two cores here: more threads than that only fight each other.
export OMP_NUM_THREADS ?= 2
export NUMBA_NUM_THREADS ?= 2
export MPLBACKEND := Agg

.PHONY: install test lint docs demo bench clean

install: $(STAMP)

# GuacaMol (seqvae bench guacamol) goes in without its dependencies: it requires rdkit-pypi,
# an old RDKit build for NumPy 1.x that would replace the chem extra's RDKit and fail to import.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,chem,fcd,docs]'
	$(PY) -m pip install -q --no-deps 'guacamol==0.5.5' 'tqdm>=4.26'
	touch $(STAMP)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The documentation site, built into site/; --strict turns a broken link or reference into an error.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

demo: $(STAMP)
	bash scripts/demo.sh

bench: $(STAMP)
	$(PY) scripts/bench_reset.py

clean:
	rm -rf $(VENV) demo_out site .pytest_cache
