# Two commands on a fresh machine: `make dev` (run both workers locally) and `make test`.
# Both install what is missing first (scripts/bootstrap.py) and print each step.
NODE := .devhost/bin/node
PYTHON := .venv/bin/python

.PHONY: setup dev test unit e2e lint typecheck bench profile fuzz load key jwt openapi replay bindings clean

setup:
	@python3 scripts/bootstrap.py

# Restarts the host when a worker's code changes (state in .wrangler/state survives), not when
# the host's start writes each worker's copy of shared/ (local/watch.mjs).
WATCH := local/watch.mjs --watch-path=api_worker --watch-path=inference_worker --watch-path=shared --watch-path=local --watch-path=playground --

# Both workers on the real workerd (local/workerd.mjs), restored from the runtime's baseline memory
# snapshot kept in .wrangler/snapshots (saved on the first start; no worker code in it, so code
# changes keep it: scripts/snapshots.py dev-baseline). Without it if it cannot be saved.
dev: setup
	@echo "==> Starting both workers on workerd; it restarts when code changes; Ctrl-C stops it"
	@echo "    Every route but /health needs a key: in another shell, make key ARGS=\"create --name me\""
	@snapshot="$$($(PYTHON) scripts/snapshots.py dev-baseline)" || { echo "    (starting without a baseline snapshot)"; snapshot=""; }; \
		$(NODE) $(WATCH) local/workerd.mjs $$snapshot $(ARGS)

test: setup typecheck
	@echo "==> Running unit (CPython), deploy-bundle and end-to-end (workerd) tests"
	@$(PYTHON) -m pytest tests $(ARGS)

unit: setup
	@$(PYTHON) -m pytest tests/unit $(ARGS)

e2e: setup
	@$(PYTHON) -m pytest tests/e2e $(ARGS)

lint: setup typecheck
	@echo "==> Linting (ruff)"
	@$(PYTHON) -m ruff check .

# mypy, strict, on shared/ and the pure modules ([tool.mypy] in pyproject.toml lists them).
typecheck: setup
	@echo "==> Type checking (mypy, strict: shared/ and the modules that need no runtime)"
	@$(PYTHON) -m mypy

bench: setup
	@$(PYTHON) scripts/bench.py $(ARGS)

# Where one route's Python time goes (cProfile in both workers, on workerd): make profile ROUTE=events
profile: setup
	@$(PYTHON) scripts/profile.py $(or $(ROUTE),models) $(ARGS)

# The fuzzer, long (5,000 requests; a short run is part of make test): ARGS="--requests N --seed S".
fuzz: setup
	@$(PYTHON) scripts/fuzz.py $(ARGS)

# Concurrent load on workerd: 200 streams, then 50 event batches (ARGS="--streams N --batches N").
load: setup
	@$(PYTHON) scripts/load.py $(ARGS)

# The host `make dev` serves (its port recorded in .wrangler/state/served-host.json), or ARGS="--url URL".
replay: setup
	@echo "==> Firing the cron trigger on the local host (replays unindexed event batches)"
	@$(PYTHON) scripts/replay.py $(ARGS)

# The api's [[services]] to its inference backends, from backends.txt (one worker name a line).
bindings:
	@python3 scripts/bindings.py

key: setup
	@$(PYTHON) scripts/keys.py $(ARGS)

# A JWT for local use, signed with .dev.vars' JWT_SECRET: make jwt ARGS="--sub user-1 --tier pro".
# The standard library only, and no setup step first: it prints the token alone (TOKEN=$$(make -s jwt ...)).
jwt:
	@python3 scripts/jwt_token.py $(ARGS)

# The OpenAPI document, docs/openapi.json, from the code (ARGS=--check: fail if it is stale).
openapi: setup
	@$(PYTHON) scripts/openapi.py $(ARGS)

clean:
	rm -rf .venv node_modules .devhost .wrangler api_worker/shared inference_worker/shared
