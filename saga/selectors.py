"""Reads of the saga module."""

from datetime import datetime

from django.db.models import Count

from saga.models import SagaInstance


def saga_outcome_counts(*, since: datetime) -> dict[str, int]:
    """Sagas started since `since`, counted by their current status."""
    rows = SagaInstance.objects.filter(created_at__gte=since).values("status").annotate(count=Count("id"))
    return {row["status"]: row["count"] for row in rows}
