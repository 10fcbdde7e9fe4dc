# CryptoLens — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install lint format types imports pytest clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# TradingView lightweight-charts and Swagger UI (for /api/docs) from the npm registry
# (package-lock.json pins them, no install scripts run); their bundles are copied into the
# package and served from a fixed file list.
VENDOR := src/cryptolens/web/static/vendor/lightweight-charts.standalone.production.js

$(VENDOR): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(VENDOR))
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(dir $(VENDOR))
	cp node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js $@

install: $(STAMP) $(VENDOR)

# The demo replays real Coinbase BTC/USD hourly history (shipped in the package) through a
# local Binance-compatible simulator; `make run LIVE=1` uses the real exchange instead.
DEMO_ENV := EXCHANGE_API_URL=$${EXCHANGE_API_URL:-http://127.0.0.1:8765} \
	BASE_TIMEFRAME=$${BASE_TIMEFRAME:-1h} TIMEFRAMES=$${TIMEFRAMES:-1h,2h,4h,1d}

## run: install, migrate the default SQLite database, load the demo, serve http://127.0.0.1:5000
run: install
ifeq ($(LIVE),1)
	$(BIN)/cryptolens up --live
else
	$(DEMO_ENV) $(BIN)/cryptolens up
endif

## test: lint, types, the import contract and the test suite
test: install lint types imports pytest

lint: install
	$(BIN)/ruff check src tests bench scripts gunicorn.conf.py
	$(BIN)/ruff format --check src tests bench scripts gunicorn.conf.py

format: install
	$(BIN)/ruff format src tests bench scripts gunicorn.conf.py
	$(BIN)/ruff check --fix src tests bench scripts gunicorn.conf.py

types: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build node_modules src/cryptolens/web/static/vendor .mypy_cache .ruff_cache .pytest_cache .hypothesis
