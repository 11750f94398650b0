"""Ops commands: exit codes and messages an operator or a probe script can rely on."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from conftest import free_port
from customers.models import User


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_healthcheck_passes_when_ready(capsys):
    call_command("healthcheck", "--json")

    assert json.loads(capsys.readouterr().out) == {
        "status": "ready",
        "ready": True,
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok"},
    }


@pytest.mark.slow
def test_healthcheck_exits_1_naming_the_unreachable_database():
    result = manage(
        "healthcheck",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/x",
        DB_CONNECT_TIMEOUT="2",
        REDIS_URL="",
    )

    assert result.returncode == 1
    assert "not ready: database, migrations" in result.stderr


@pytest.mark.django_db
def test_create_staff_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a long staff passphrase")

    call_command("create_staff", "Ops@C4ang.com", "--password-env", "NEW_STAFF_PASSWORD")

    user = User.objects.get(email="ops@c4ang.com")
    assert user.is_staff is True
    assert user.is_superuser is False
    assert user.check_password("a long staff passphrase")


@pytest.mark.django_db
def test_create_staff_refuses_a_weak_password_and_creates_nothing(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "1234")

    with pytest.raises(CommandError, match="password_invalid"):
        call_command("create_staff", "ops@c4ang.com", "--password-env", "NEW_STAFF_PASSWORD")

    assert not User.objects.filter(email="ops@c4ang.com").exists()


@pytest.mark.django_db
def test_create_staff_needs_a_password_source(monkeypatch):
    with pytest.raises(CommandError, match="NOPE is empty or unset"):
        call_command("create_staff", "ops@c4ang.com", "--password-env", "NOPE")


def test_seed_demo_data_refuses_production():
    result = manage("seed_demo_data", C4ANG_ENV="production", SECRET_KEY="k" * 60, ALLOWED_HOSTS="api.c4ang.com")

    assert result.returncode == 1
    assert "never runs with C4ANG_ENV=production" in result.stderr


@pytest.mark.django_db
def test_expire_orders_cancels_stale_unpaid_orders_and_returns_their_stock(customer, product_factory, settings):
    from datetime import timedelta

    from django.utils import timezone

    from orders import services as order_services
    from orders.models import Order
    from products.models import Product

    speaker = product_factory(stock=4)
    order, _ = order_services.order_place(
        customer_id=customer.id,
        lines=[order_services.OrderLine(product_id=speaker.id, quantity=3)],
        payment_token=None,
        idempotency_key=None,
    )
    assert Product.objects.get(pk=speaker.pk).stock == 1
    stale = timezone.now() - timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES + 1)
    Order.objects.filter(pk=order.pk).update(created_at=stale)

    call_command("expire_orders")

    assert Order.objects.get(pk=order.pk).status == "CANCELLED"
    assert Product.objects.get(pk=speaker.pk).stock == 4


def test_expire_orders_refuses_a_bad_limit():
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("expire_orders", "--limit", "0")
