# Qujat: `make run` starts the product on its embedded default, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UNO_VENV := .venv-uno
VENDOR := backend/web/static/vendor
SHARED ?= ../shared

PORT ?= 8000
# Printed in QR codes and e-mail links; follows the port `make run` serves on.
run: export QUJAT_SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test setup system-packages messages translations lint typecheck schema check-bpmn pytest lock clean-var

run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py demo_logins
	$(VENV)/bin/honcho start -f Procfile --port $(PORT)

test: setup lint typecheck schema pytest

setup: system-packages $(VENV)/.installed $(UNO_VENV)/.installed $(VENDOR)/.installed messages .env

system-packages:
	@bin/install-system-packages

.env:
	@bin/write-local-env $(PYTHON)

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(VENV)/bin/pip install --quiet -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	@touch $@

# unoserver must run under the Python that has LibreOffice's `uno` module (Debian's python3-uno).
$(UNO_VENV)/.installed:
	/usr/bin/python3 -m venv --system-site-packages $(UNO_VENV)
	$(UNO_VENV)/bin/pip install --quiet unoserver==3.7
	@touch $@

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/htmx $(VENDOR)/bpmn-js $(VENDOR)/pdfjs $(VENDOR)/chartjs
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets $(VENDOR)/bpmn-js/
	cp node_modules/pdfjs-dist/build/pdf.min.mjs node_modules/pdfjs-dist/build/pdf.worker.min.mjs $(VENDOR)/pdfjs/
	cp -r node_modules/swagger-ui-dist $(VENDOR)/swagger-ui-dist
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chartjs/
	@touch $@

messages: $(VENV)/.installed
	@cd backend && ../$(PY) ../manage.py compilemessages --verbosity 0

# After changing user-visible strings: update the catalogs, then fill in Kazakh and Russian with
# bin/set-translations FILE.json (tests/config/test_translations.py refuses untranslated or fuzzy entries).
translations: $(VENV)/.installed
	cd backend && ../$(PY) ../manage.py makemessages -l kk -l ru -l en --no-location --ignore "node_modules/*" --ignore "static/*"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy backend signing

# The OpenAPI schema (what /api/schema/ serves), checked: valid OpenAPI and not one drf-spectacular warning.
schema: $(VENV)/.installed
	@mkdir -p var
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

check-bpmn: $(VENV)/.installed
	$(PY) $(SHARED)/tools/validate-bpmn bpmn/*.bpmn

pytest: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Re-pin every Python package after changing pyproject.toml.
lock:
	rm -rf /tmp/qujat-lock && $(PYTHON) -m venv /tmp/qujat-lock
	/tmp/qujat-lock/bin/pip install --quiet -e '.[dev]'
	{ echo "# Every package the project and its tests install, pinned (regenerate with 'make lock')."; \
	  /tmp/qujat-lock/bin/pip freeze --exclude-editable; } > requirements.lock
