# The two set-up commands: `make run` (the platform with demo data on :8000) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
INSTALLED := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt deploy/requirements.txt | sha1sum | cut -c1-12)
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed-$(shell sha1sum deploy/requirements-checkov.txt | cut -c1-12)

.PHONY: run test install lint check-deploy schema clean deploy-tools mesh-start mesh-stop

$(INSTALLED): requirements.txt requirements-dev.txt deploy/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(INSTALLED)

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo_data --if-empty
	@echo ""
	@echo "  C4ang is serving every module on http://127.0.0.1:$(PORT)"
	@echo "    API docs (Swagger UI):  http://127.0.0.1:$(PORT)/api/docs/"
	@echo "    Admin:                  http://127.0.0.1:$(PORT)/admin/  (staff@c4ang.com / c4ang-staff-1234)"
	@echo "    Readiness:              http://127.0.0.1:$(PORT)/readyz"
	@echo ""
	$(BIN)/gunicorn c4ang.wsgi:application --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile -

test: install deploy-tools
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) var .pytest_cache .ruff_cache

# Deploy tooling the tests use beyond the venv: checkov in its own venv, nginx for the local mesh (apt).
$(CHECKOV_INSTALLED): deploy/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r deploy/requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

deploy-tools: install $(CHECKOV_INSTALLED)
	$(BIN)/python -m deploy.local.mesh install-nginx

# The local mesh (deploy/local/mesh.py): nginx on :8080 in front of one gunicorn per module.
mesh-start: install
	$(BIN)/python -m deploy.local.mesh start

mesh-stop: install
	$(BIN)/python -m deploy.local.mesh stop
