"""Cache invalidations are recorded in the write's transaction (c4ang.models.CacheInvalidation) and
forgotten once the cache dropped them; one whose drop failed is applied by the next reader that
looks (at most PENDING_CHECK_S later) or by the periodic task, never left served until its TTL.

The cache is made unreachable here by making its drop raise what the backend raises when it is
(tests/test_redis_hang.py does it for real, with a stopped redis-server)."""

import sqlite3
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import transaction
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

from c4ang import cache as platform_cache
from c4ang.actors import Actor, ActorKind
from c4ang.models import CacheInvalidation
from c4ang.tasks import apply_cache_invalidations
from products import services as product_services
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
PRODUCTS = "/api/v1/products/"
STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")


@pytest.fixture
def product():
    return ProductFactory(price=Decimal("30000"))


def cache_unreachable(monkeypatch) -> None:
    """Deletes fail as they do when the cache cannot be reached (reads still work: a partition)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        error, store = ConnectionInterrupted(connection=None), backend.client
    else:
        error, store = sqlite3.OperationalError("database is locked"), backend

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(store, "delete_many", fail)


def price_shown(api_client, product) -> tuple[str, str]:
    listed = api_client.get(PRODUCTS).json()["results"]
    return api_client.get(f"{PRODUCTS}{product.pk}/").json()["price"], listed[0]["price"]


def test_a_write_records_its_invalidation_until_the_cache_dropped_it(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product_services.product_update(product_id=product.pk, price=Decimal("35000"))

    pending = CacheInvalidation.objects.get()
    assert (pending.keys, pending.versions) == ([f"catalog:detail:{product.pk}"], ["catalog:version"])
    for callback in callbacks:
        callback()
    assert CacheInvalidation.objects.count() == 0


def test_a_rolled_back_write_records_nothing(product):
    def change_price_then_fail():
        with transaction.atomic():
            product_services.product_update(product_id=product.pk, price=Decimal("35000"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_price_then_fail()

    assert CacheInvalidation.objects.count() == 0


def test_a_failed_drop_is_applied_by_the_next_reader_that_looks(
    api_client, product, monkeypatch, invalidations_clock, django_capture_on_commit_callbacks
):
    assert price_shown(api_client, product) == (30000, 30000)  # cached, and looked: none left
    with monkeypatch.context() as unreachable:
        cache_unreachable(unreachable)
        with django_capture_on_commit_callbacks(execute=True):
            product_services.product_update(product_id=product.pk, price=Decimal("35000"))
    assert CacheInvalidation.objects.count() == 1  # the drop failed: left for later

    # The cache answers again. Within PENDING_CHECK_S of its last look a process serves what it has...
    assert price_shown(api_client, product) == (30000, 30000)
    invalidations_clock.advance(1)  # past PENDING_CHECK_S

    # ...then looks, drops the stale detail and page, and serves the new price.
    assert price_shown(api_client, product) == (35000, 35000)
    assert CacheInvalidation.objects.count() == 0


def test_while_the_left_over_drop_fails_reads_skip_the_cache(
    api_client, product, monkeypatch, invalidations_clock, django_capture_on_commit_callbacks
):
    assert price_shown(api_client, product) == (30000, 30000)
    cache_unreachable(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        product_services.product_update(product_id=product.pk, price=Decimal("35000"))
    invalidations_clock.advance(1)  # past PENDING_CHECK_S

    # The stale entries are still in the cache, but not trusted: served from the database.
    assert price_shown(api_client, product) == (35000, 35000)
    assert caches["default"].get(f"catalog:detail:{product.pk}") is not None
    assert CacheInvalidation.objects.count() == 1
    assert platform_cache.trusted() is False  # and not tried again before PENDING_CHECK_S


def test_the_periodic_task_applies_what_is_left(api_client, product, monkeypatch, django_capture_on_commit_callbacks):
    price_shown(api_client, product)
    with monkeypatch.context() as unreachable:
        cache_unreachable(unreachable)
        with django_capture_on_commit_callbacks(execute=True):
            product_services.stock_adjust(product_id=product.pk, delta=5, reason="입고", by=STAFF)
        assert apply_cache_invalidations() is False  # still unreachable: kept
        assert CacheInvalidation.objects.count() == 1

    assert apply_cache_invalidations() is True
    assert CacheInvalidation.objects.count() == 0
    assert caches["default"].get(f"catalog:detail:{product.pk}") is None
