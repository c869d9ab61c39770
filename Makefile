# Everything `make run` and `make test` need is installed from here: Debian packages (as root),
# a .venv with the Python packages, and test data fetched from PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# poppler: render PDFs in tests; wqy-microhei: the embedded CJK font; unicode-data: Unihan
# stroke counts for the candidate-order cross-check; chromium: browser tests (never `playwright
# install`: Playwright drives Debian's chromium); libsodium23: ristretto255 for keys/elgamal/ (pysodium).
APT_PACKAGES := poppler-utils poppler-data fonts-wqy-microhei unicode-data chromium libsodium23
# wrk: the load generator of bench/bench_remote.py (only `make bench` needs it).
BENCH_APT_PACKAGES := wrk
CN_SORT := .cache/cn-sort
# `make run HOST=0.0.0.0 PORT=8080` serves elsewhere than 127.0.0.1:8000.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test demo bench bench-remote-verify soak fuzz screenshots system-deps setup clean check-bundles

run: setup
	$(BIN)/tally check examples/qingshan.toml
	$(BIN)/tally serve --demo --host $(HOST) --port $(PORT)

test: setup $(CN_SORT) check-bundles
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	# Three workers on two cores: a worker spends about a third of its time waiting on a child
	# (chromium, pdftoppm, a CLI run), measured as 21 min of CPU in 16.8 min of wall with two;
	# worksteal keeps the long tests at the end from leaving a core idle.
	CN_SORT_ARCHIVE="$$(ls $(CN_SORT)/cn_sort-*.whl 2>/dev/null | head -n1)" $(BIN)/pytest -n 3 --dist worksteal

# The fuzzers of tests/fuzz with a large random budget (`make test` runs them with a small fixed
# seed): each runs FUZZ_SCALE (default 50) times its examples, or FUZZ_EXAMPLES each when set.
# A crash found is kept in .hypothesis/ and replayed first next time (docs/FUZZING.md). The whole-
# bundle fuzzers (test_fuzz_bundle.py) take their deep budget from tests/fuzz/conftest.py.
fuzz: setup
	FUZZ=deep $(BIN)/pytest -n 2 -m fuzz -p no:cacheprovider tests/fuzz

demo: setup
	rm -rf out/demo
	$(BIN)/tally demo --out out/demo

# The guides' screenshots (docs/screenshots/) are rewritten only here; `make test` takes them into a
# temporary folder.
screenshots: setup
	SCREENSHOTS=update $(BIN)/pytest -n 2 tests/browser

bench: APT_PACKAGES += $(BENCH_APT_PACKAGES)
bench: setup
	$(BIN)/python bench/run_all.py

# The verifier on 10,000 remote ballots (issue 16): about 8 minutes from its cached bundles, 10-30
# for their cold build, so not part of `make bench`; it rewrites that section of docs/PERFORMANCE.md.
bench-remote-verify: setup
	$(BIN)/python bench/run_all.py --only verify_remote

# A polling day at 300 members through the HTTP API with SIGKILLs, a full disk and dropped clients
# (bench/soak.py); not in `make test`. Mounts a tmpfs, so it runs as root (sudo when not root).
# `make soak SOAK_MINUTES=2` for a short run; the figures go to docs/PERFORMANCE.md.
SOAK_MINUTES ?= 20
soak: setup
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) $(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) \
	  --doc docs/PERFORMANCE.md $(if $(SOAK_SEED),--seed $(SOAK_SEED))

setup: system-deps $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

# The committed front-end bundles (tally/service/static/remote/remote-crypto.js and
# static/station/vendor/qr-camera.js) must be exactly what their sources and lock files build
# (issue 17 point 8): each web/ folder is installed from its lock file and its build compared.
# Node.js and npm come from Debian when the machine has none.
WEB_BUNDLES := web/remote web/station
check-bundles:
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm; }
	@for d in $(WEB_BUNDLES); do \
	  npm ci --prefix $$d --no-audit --no-fund --loglevel=error >/dev/null && npm --prefix $$d run --silent check || exit 1; \
	done

# The source of the vendored stroke table (MIT), so the regeneration test can run; never imported.
$(CN_SORT):
	$(BIN)/pip download -q --no-deps -d $(CN_SORT) cn-sort==0.14.0 || mkdir -p $(CN_SORT)

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis
