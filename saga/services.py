"""Writes of the saga module: start, resume, compensate, retry and recover sagas.

The engine (`saga.engine`) explains how a saga runs; other apps define their sagas with the types
re-exported here, and call only these functions.
"""

import functools
from collections import Counter
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from c4ang import tracing
from c4ang.actors import Actor
from c4ang.db import save_fields
from saga import engine, errors
from saga.constants import SagaCompensationReason, SagaStatus
from saga.engine import WAIT, SagaContext, SagaDefinition, SagaStep, saga_define, waiting
from saga.models import SagaInstance

SAGA_RECOVERY = Actor.system("saga_recovery")
# Where the payload keeps the trace of the request that started the saga (only with tracing on).
TRACE_KEY = "trace"

__all__ = [
    "WAIT",
    "SagaContext",
    "SagaDefinition",
    "SagaStep",
    "saga_compensate",
    "saga_define",
    "saga_recover",
    "saga_resume",
    "saga_retry",
    "saga_schedule_compensation",
    "saga_start",
    "waiting",
]


def _busy_when_taken_over(use_case):
    """A runner that lost its lease has stopped; to the caller the saga is busy: another runner has it."""

    @functools.wraps(use_case)
    def run(**kwargs):
        try:
            return use_case(**kwargs)
        except engine.SagaLeaseLost:
            raise errors.SagaBusy() from None

    return run


@_busy_when_taken_over
def saga_start(*, saga_type: str, payload: dict) -> SagaInstance:
    """Create a saga and run it as far as it goes.

    The first step runs in the transaction that creates the instance, and must complete or
    refuse: when it refuses (a DomainError, or a unique key it claims is taken), nothing is left
    behind, not even the saga, since nothing happened that needs compensating.
    """
    with tracing.span(f"saga.start {saga_type}", **{"saga.type": saga_type}):
        # Kept with the saga (tracing on): a worker that continues it later does so in this trace.
        trace = tracing.carrier()
        with transaction.atomic():
            runner = engine.start(saga_type=saga_type, payload={**payload, TRACE_KEY: trace} if trace else payload)
        return runner.forward()


@_busy_when_taken_over
def saga_resume(*, saga_id: UUID, payload_update: dict) -> SagaInstance:
    """Continue a waiting saga with what the external event brought (merged into its payload)."""
    runner = engine.claim(saga_id, statuses=[SagaStatus.STARTED])
    if runner is None:
        raise errors.SagaNotWaiting()
    runner.save(payload={**runner.saga.payload, **payload_update})
    return runner.forward()


@_busy_when_taken_over
def saga_compensate(*, saga_id: UUID, reason: str, by: Actor, note: str = "") -> SagaInstance:
    """Undo a saga that is waiting, stuck, compensating or failed (completed ones: see schedule).

    `reason` is a short machine code, `note` free text, `by` who asks; a reason given earlier is kept.
    """
    runner = engine.claim(saga_id, statuses=[SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED])
    if runner is None:
        raise errors.SagaNotCompensable()
    return runner.compensate(reason=reason, note=note, by=by)


def saga_compensate_for_staff(*, saga_id: UUID, by: Actor, note: str = "") -> SagaInstance:
    """Staff undo a stuck or failed saga from the tracker or the admin."""
    return saga_compensate(saga_id=saga_id, reason=SagaCompensationReason.STAFF_REQUEST, by=by, note=note)


def saga_schedule_compensation(*, saga_id: UUID, reason: str, by: Actor, note: str = "") -> None:
    """In the caller's transaction, turn a completed or waiting saga to COMPENSATING, due now.

    The caller decides under its own row locks and commits; it then runs `saga_compensate`. If the
    process dies in between, recovery finds the saga due and compensates it. `reason` is a short
    machine code, `note` free text, `by` who asks; a reason given earlier is kept.
    """
    saga = SagaInstance.objects.select_for_update().get(pk=saga_id)
    if saga.status in (SagaStatus.COMPENSATING, SagaStatus.COMPENSATED):
        return
    if saga.status not in (SagaStatus.STARTED, SagaStatus.COMPLETED):
        raise errors.SagaNotCompensable()
    if saga.lease_owner and saga.lease_expires_at and saga.lease_expires_at > timezone.now():
        raise errors.SagaBusy()
    # No runner holds it, and its lease is already over: recovery takes it if nobody runs it first.
    save_fields(
        saga,
        **engine.compensating_fields(saga, reason=reason, note=note, by=by),
        lease_owner="",
        lease_expires_at=timezone.now(),
    )


@_busy_when_taken_over
def saga_retry(*, saga_id: UUID) -> SagaInstance:
    """Run a stuck saga again: forward when it was still running, its compensation otherwise."""
    runner = engine.claim(saga_id, statuses=[SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED])
    if runner is None:
        raise errors.SagaNotRetryable()
    if runner.saga.status == SagaStatus.STARTED:
        return runner.forward()
    return runner.compensate()


def saga_recover(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Take over sagas whose lease expired: resume them, or compensate after SAGA_MAX_ATTEMPTS runs.

    Returns how many sagas ended in each status.
    """
    now = now or timezone.now()
    due = list(
        SagaInstance.objects.filter(status__in=[SagaStatus.STARTED, SagaStatus.COMPENSATING], lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    outcomes: Counter[str] = Counter()
    for saga_id in due:
        try:
            runner = engine.claim(saga_id, statuses=[SagaStatus.STARTED, SagaStatus.COMPENSATING], expired_before=now)
            if runner is None:
                continue
            with tracing.continued(
                f"saga.recover {runner.saga.saga_type}",
                runner.saga.payload.get(TRACE_KEY),
                **{"saga.type": runner.saga.saga_type, "saga.id": str(saga_id), "saga.attempt": runner.saga.attempts},
            ):
                if runner.saga.status == SagaStatus.STARTED and runner.saga.attempts <= settings.SAGA_MAX_ATTEMPTS:
                    saga = runner.forward()
                else:
                    saga = runner.compensate(
                        reason=SagaCompensationReason.RECOVERY_GAVE_UP, note="too many attempts", by=SAGA_RECOVERY
                    )
        except (errors.SagaBusy, engine.SagaLeaseLost):
            continue  # another runner took it over meanwhile
        outcomes[saga.status] += 1
    return dict(outcomes)
