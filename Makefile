# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# A GPU user picks another torch build, e.g. `make test TORCH='torch==2.13.0 --index-url <your CUDA wheel index>'`.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test check-sync venv apt-lists browser docs clean

venv: $(STAMP)

$(STAMP): setup.py settings.ini constraints.txt jupyter-config/jupyter_server_config.d/hotdog.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check $(TORCH)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name hotdog --display-name 'Python (hotdog)' >/dev/null
	# An editable install skips setup.py's data_files: put the server extension's config where a regular install puts it.
	mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d
	cp jupyter-config/jupyter_server_config.d/hotdog.json $(VENV)/etc/jupyter/jupyter_server_config.d/
	touch $(STAMP)

# apt's package lists are empty on a new machine; the demo data comes through apt.
apt-lists:
	@if command -v apt-get >/dev/null && ! apt-cache show tuxpaint-stamps-default >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq; else echo "apt lists are empty: run 'sudo apt-get update' once"; fi; fi

# Browser tests drive JupyterLab with Playwright and Debian's chromium (no `playwright install` download).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" != 0 ]; then echo "chromium missing: run 'sudo apt-get install --no-install-recommends chromium' once"; exit 1; fi; \
	  apt-cache show chromium >/dev/null 2>&1 || apt-get update -qq; \
	  apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

demo: $(STAMP) apt-lists
	$(BIN)/hotdog demo

# Fails when notebooks are not clean or hotdog/ is out of sync with nbs/.
check-sync: $(STAMP)
	@md5sum nbs/*.ipynb hotdog/*.py > $(VENV)/sync-before
	@$(BIN)/nbdev_clean
	@$(BIN)/nbdev_export
	@md5sum nbs/*.ipynb hotdog/*.py > $(VENV)/sync-after
	@diff $(VENV)/sync-before $(VENV)/sync-after >/dev/null || { \
	  echo "check-sync: nbdev_clean/nbdev_export changed files (now rewritten; review and commit):"; \
	  diff $(VENV)/sync-before $(VENV)/sync-after | grep '^[<>]' | awk '{print "  " $$3}' | sort -u; exit 1; }
	@echo "check-sync: notebooks clean, hotdog/ in sync with nbs/"

# The docs site from the notebooks, into _docs/ (open _docs/index.html; no server or internet needed). See docs/build.py.
docs: $(STAMP)
	$(BIN)/python docs/build.py

test: check-sync browser docs
	$(BIN)/nbdev_test --n_workers 2
	$(BIN)/pytest -q tests

clean:
	rm -rf $(VENV)
