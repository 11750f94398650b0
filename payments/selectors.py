"""Reads of the payments module."""

from datetime import datetime

from django.db.models import Count

from payments.models import Payment, PaymentStatus


def payment_decline_counts(*, since: datetime) -> list[dict]:
    """Failed payment attempts since `since` by PG failure code, most frequent first."""
    return list(
        Payment.objects.filter(status=PaymentStatus.FAILED, created_at__gte=since)
        .values("failure_code")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_code")
    )
