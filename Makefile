# The two commands that matter: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The CPU build of torch (the test oracle) may sit in a local wheel folder; use it when present.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check $(FIND_LINKS)

.PHONY: demo test bench venv clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-demo
	$(PY) examples/demo.py

test: $(VENV)/.installed-test
	GRADKIT_NUM_THREADS=1 $(PY) -m pytest -n 2 tests

bench: $(VENV)/.installed-test
	$(PY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
