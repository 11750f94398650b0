"""The data migration that splits a saga's "code: text" compensation reason into a code and a note."""

import importlib

import pytest
from django.apps import apps

from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

migration = importlib.import_module("saga.migrations.0003_split_compensation_reason")


def test_reasons_are_split_into_a_code_and_a_note_and_joined_back():
    failed = SagaInstance.objects.create(
        saga_type="place_order",
        payload={"order_id": "1", "compensation_reason": "insufficient_stock: Not enough stock: 2 left"},
    )
    by_staff = SagaInstance.objects.create(
        saga_type="place_order", payload={"compensation_reason": "compensated by kim@c4ang.com"}
    )
    running = SagaInstance.objects.create(saga_type="place_order", payload={"order_id": "3"})
    given_up = SagaInstance.objects.create(
        saga_type="place_order", payload={"compensation_reason": "recovery: too many attempts"}
    )

    migration.split_reasons(apps, None)

    def payloads():
        return [SagaInstance.objects.get(pk=saga.pk).payload for saga in (failed, by_staff, running, given_up)]

    assert payloads() == [
        {"order_id": "1", "compensation_reason": "insufficient_stock", "compensation_note": "Not enough stock: 2 left"},
        {"compensation_reason": "staff_request", "compensation_note": "compensated by kim@c4ang.com"},
        {"order_id": "3"},
        {"compensation_reason": "recovery_gave_up", "compensation_note": "too many attempts"},
    ]
    migration.split_reasons(apps, None)  # a second run changes nothing
    assert payloads()[0]["compensation_note"] == "Not enough stock: 2 left"

    migration.join_reasons(apps, None)

    assert payloads() == [
        {"order_id": "1", "compensation_reason": "insufficient_stock: Not enough stock: 2 left"},
        {"compensation_reason": "staff_request: compensated by kim@c4ang.com"},
        {"order_id": "3"},
        {"compensation_reason": "recovery_gave_up: too many attempts"},
    ]
