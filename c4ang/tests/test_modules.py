"""C4ANG_MODULES: a process mounts only its modules' URL prefixes; other modules' paths are 404."""

import importlib
import os
import subprocess
import sys

import pytest
from django.urls import clear_url_caches

import c4ang.urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def mounted(settings):
    def mount(modules: list[str]) -> None:
        settings.C4ANG_MODULES = modules
        importlib.reload(c4ang.urls)
        clear_url_caches()

    yield mount
    settings.C4ANG_MODULES = list(settings.C4ANG_ALL_MODULES)
    importlib.reload(c4ang.urls)
    clear_url_caches()


def test_orders_process_serves_orders_and_404s_products(mounted, customer_client):
    mounted(["orders"])

    assert customer_client.get("/api/v1/orders/").status_code == 200
    response = customer_client.get("/api/v1/products/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert customer_client.get("/admin/login/").status_code == 404


def test_every_process_answers_probes_and_schema(mounted, api_client):
    mounted(["payments"])

    assert api_client.get("/healthz").status_code == 200
    assert api_client.get("/readyz").status_code == 200
    assert api_client.get("/metrics").status_code == 200
    assert api_client.get("/api/schema/").status_code == 200


def test_schema_lists_only_mounted_modules(mounted, api_client):
    mounted(["products"])

    paths = api_client.get("/api/schema/?format=json").json()["paths"]
    assert any(path.startswith("/api/v1/products/") for path in paths)
    assert not any(path.startswith("/api/v1/orders/") for path in paths)


def test_all_mounts_every_module(mounted, api_client):
    mounted([*c4ang.urls.MODULE_PREFIXES, "admin"])

    assert api_client.get("/api/v1/products/").status_code == 200
    assert api_client.get("/api/v1/orders/").status_code == 401
    assert api_client.get("/admin/login/").status_code == 200


def test_unknown_module_refuses_to_start():
    env = {**os.environ, "C4ANG_MODULES": "orders,inventory"}
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "C4ANG_MODULES" in result.stderr
    assert "inventory" in result.stderr
