# The two set-up commands: `make run` (the platform with demo data on :8000) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
ML_REQUIREMENTS := requirements-ml.txt sentiment/lambda_function/requirements.txt
REQUIREMENTS := requirements.txt requirements-dev.txt deploy/requirements.txt $(ML_REQUIREMENTS)
INSTALLED := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | sha1sum | cut -c1-12)
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed-$(shell sha1sum deploy/requirements-checkov.txt | cut -c1-12)
# The demo sentiment model (a demo only): built once by `make run`, which points SENTIMENT_MODEL at it.
DEMO_SENTIMENT_MODEL := var/sentiment-demo-model
# What the translation commands look at: the apps, never the virtualenvs, the tests or the deploy tooling.
MESSAGES_SCOPE := --ignore '.venv*' --ignore var --ignore tests --ignore bench --ignore deploy --ignore staticfiles --ignore test-artifacts

.PHONY: run test install lint audit check-deploy schema clean deploy-tools mesh-start mesh-stop observe observe-stop messages compile-messages gettext

# The venv also gets torch/transformers (requirements-ml.txt): the sentiment job's local backend and
# the tests need them; the web image installs requirements.txt only.
$(INSTALLED): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-ml.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(INSTALLED)

$(DEMO_SENTIMENT_MODEL)/config.json: | $(INSTALLED)
	$(BIN)/python manage.py build_demo_sentiment_model --output $(DEMO_SENTIMENT_MODEL)

run: export SENTIMENT_MODEL ?= $(abspath $(DEMO_SENTIMENT_MODEL))
run: install compile-messages $(DEMO_SENTIMENT_MODEL)/config.json
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo_data --if-empty --run-jobs
	@echo ""
	@echo "  C4ang is serving every module on http://127.0.0.1:$(PORT)"
	@echo "    API docs (Swagger UI):  http://127.0.0.1:$(PORT)/api/docs/"
	@echo "    Admin:                  http://127.0.0.1:$(PORT)/admin/  (staff@c4ang.com / c4ang-staff-1234)"
	@echo "    Readiness:              http://127.0.0.1:$(PORT)/readyz"
	@echo "    Jobs now:               SENTIMENT_MODEL=$$SENTIMENT_MODEL $(BIN)/python manage.py run_sentiment"
	@echo "                            $(BIN)/python manage.py run_recommendations"
	@echo ""
	$(BIN)/gunicorn c4ang.wsgi:application --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile -

test: install compile-messages deploy-tools
	$(BIN)/pytest $(PYTEST_ARGS)

# The translations (README, Languages): each app's catalogue, <app>/locale/<language>/LC_MESSAGES/django.po.
# gettext's tools come from Debian's packages, installed like nginx when missing (needs root, as on CI).
gettext:
	@command -v msgfmt >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "gettext is missing: install it with 'sudo apt-get install gettext'"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gettext; }

# The compiled catalogues (*.mo) are built here and in the image, never committed.
compile-messages: install gettext
	$(BIN)/python manage.py compilemessages $(MESSAGES_SCOPE) -v 0

# The languages with catalogues (makemessages' --all sees only a project-level locale folder, which we have not).
MESSAGE_LANGUAGES = $(sort $(notdir $(wildcard */locale/*)))

# After marking strings: every catalogue gets the new ones to translate (c4ang/tests/test_translations.py
# fails until each is translated and none is fuzzy).
messages: install gettext
	$(BIN)/python manage.py makemessages $(addprefix --locale=,$(MESSAGE_LANGUAGES)) $(MESSAGES_SCOPE) --no-location --no-obsolete -v 0

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Where PyPI's JSON API or OSV is reachable: --strict fails on any dependency it could not audit.
audit: install
	$(BIN)/bandit -c pyproject.toml -r . -q
	$(BIN)/pip-audit -r requirements.txt --strict

schema: install
	$(BIN)/python manage.py spectacular --lang en --validate --fail-on-warn --file var/openapi.yaml

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) var .pytest_cache .ruff_cache

# Deploy tooling the tests use beyond the venv: checkov in its own venv, nginx for the local mesh and
# Prometheus (promtool, the server) for the monitoring tests (Debian's packages, apt).
$(CHECKOV_INSTALLED): deploy/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r deploy/requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

deploy-tools: install $(CHECKOV_INSTALLED)
	$(BIN)/python -m deploy.local.mesh install-nginx
	$(BIN)/python -m deploy.monitoring install

# The local mesh (deploy/local/mesh.py): nginx on :8080 in front of one gunicorn per module.
mesh-start: install
	$(BIN)/python -m deploy.local.mesh start

mesh-stop: install
	$(BIN)/python -m deploy.local.mesh stop

# Prometheus (Debian's) against the local mesh with the platform's alert rules, on :9090 (deploy/local/observe.py).
observe: install
	$(BIN)/python -m deploy.local.observe start --start-mesh

observe-stop: install
	$(BIN)/python -m deploy.local.observe stop
