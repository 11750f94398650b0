"""Reads of the saga tracker."""

from datetime import datetime
from uuid import UUID

from django.db.models import Count, QuerySet
from django.utils.functional import Promise

from c4ang.selectors import get_or_raise
from saga import engine
from saga.errors import SagaNotFound
from saga.models import SagaInstance


def saga_list(*, status: str | None = None, saga_type: str | None = None) -> QuerySet[SagaInstance]:
    sagas = SagaInstance.objects.all()
    if status:
        sagas = sagas.filter(status=status)
    if saga_type:
        sagas = sagas.filter(saga_type=saga_type)
    return sagas


def saga_get_with_events(*, saga_id: UUID) -> SagaInstance:
    return get_or_raise(SagaInstance.objects.prefetch_related("events"), SagaNotFound, pk=saga_id)


def saga_get(*, saga_id: UUID) -> SagaInstance:
    return get_or_raise(SagaInstance, SagaNotFound, pk=saga_id)


def saga_outcome_counts(*, since: datetime) -> dict[str, int]:
    """Sagas started since `since`, counted by their current status."""
    rows = SagaInstance.objects.filter(created_at__gte=since).values("status").annotate(count=Count("id"))
    return {row["status"]: row["count"] for row in rows}


# --- the saga types, for the tracker's filter and schema ---


def saga_types() -> list[str]:
    """The saga types the apps have defined (saga_define, when each app is ready), by name."""
    return sorted(engine._definitions)  # the engine's registry: the saga app's own


def saga_type_label(saga_type: str) -> Promise | str:
    """What staff read for a saga type: the label its definition gives, else the type itself."""
    definition = engine._definitions.get(saga_type)
    return (definition.label or saga_type) if definition else saga_type


def saga_step_label(saga_type: str, step: str) -> Promise | str:
    """What staff read for a step of a saga type: the label its definition gives, else its name."""
    definition = engine._definitions.get(saga_type)
    labels = {known.name: known.label for known in definition.steps} if definition else {}
    return labels.get(step) or step
