"""The saga engine: a saga is an ordered list of steps, each an action with its compensation.

Every step start, completion, failure and wait, and every compensation, is an append-only
SagaEvent. A runner holds a lease on the instance while it works, and every state write is
conditional on still holding it: a runner that stalled past its lease stops instead of racing the
one that took the saga over.

What an action does decides what happens next:
- returns a dict (merged into the payload) or None: the step completed, the next one runs;
- returns WAIT: the saga waits for an external event (`saga_resume`), holding no lease;
- raises a DomainError: the step failed; compensations run from that step down to the first.
  A failed step may have partly taken effect (a PG timeout), so it is compensated too: every
  compensation is idempotent and does nothing when its action did nothing;
- raises anything else (a crash): the lease expires and `saga_recover` takes over.

A compensation that raises a DomainError is retried by recovery after SAGA_RETRY_DELAY_SECONDS;
after SAGA_MAX_ATTEMPTS runs the saga is FAILED and staff act through the tracker.

Crash tests set SAGA_FAULT_INJECTION (never set in a real environment; production refuses it) to
a point of every run: "<step>:before" is after the step's start is recorded and before its work,
"<step>:after" after its work and before its outcome is recorded ("<step>.compensation:..." the
same around its compensation). The process SIGKILLs itself there, as an OOM kill would.
"""

import os
import signal
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from c4ang.errors import DomainError
from saga import errors, metrics
from saga.models import SagaEvent, SagaEventType, SagaInstance, SagaStatus


class _Wait:
    def __repr__(self) -> str:
        return "WAIT"


WAIT = _Wait()


@dataclass(frozen=True)
class SagaContext:
    saga_id: UUID
    payload: dict
    reason: str = ""


@dataclass(frozen=True)
class SagaStep:
    name: str
    action: Callable[[SagaContext], dict | _Wait | None]
    compensation: Callable[[SagaContext], None]
    # The action (and the compensation) commits together with its event; False for network calls.
    atomic: bool = True


@dataclass(frozen=True)
class SagaDefinition:
    saga_type: str
    steps: tuple[SagaStep, ...]


_definitions: dict[str, SagaDefinition] = {}


def saga_define(*, saga_type: str, steps: list[SagaStep]) -> SagaDefinition:
    """Register a saga type; its module calls this once when its app is ready."""
    definition = SagaDefinition(saga_type=saga_type, steps=tuple(steps))
    _definitions[saga_type] = definition
    return definition


def _fault_point(point: str) -> None:
    if point == settings.SAGA_FAULT_INJECTION:
        os.kill(os.getpid(), signal.SIGKILL)


def _lease_deadline() -> datetime:
    return timezone.now() + timedelta(seconds=settings.SAGA_LEASE_SECONDS)


class _Runner:
    """One run of one saga by this process, under the lease `owner`."""

    def __init__(self, saga: SagaInstance, owner: str):
        self.saga = saga
        self.owner = owner
        self.steps = _definitions[saga.saga_type].steps

    def save(self, **fields) -> None:
        updated = SagaInstance.objects.filter(pk=self.saga.pk, lease_owner=self.owner).update(
            updated_at=timezone.now(), **fields
        )
        if not updated:
            raise errors.SagaLeaseLost()
        for name, value in fields.items():
            setattr(self.saga, name, value)

    def record(self, step: SagaStep, event_type: str, **payload) -> None:
        SagaEvent.objects.create(saga_id=self.saga.pk, step=step.name, event_type=event_type, payload=payload)

    def context(self) -> SagaContext:
        payload = dict(self.saga.payload)
        return SagaContext(saga_id=self.saga.pk, payload=payload, reason=payload.get("compensation_reason", ""))

    def complete(self, step: SagaStep, outcome: dict | None) -> None:
        fields = {"payload": {**self.saga.payload, **(outcome or {})}, "current_step": self.saga.current_step + 1}
        last = fields["current_step"] == len(self.steps)
        if last:
            fields.update(status=SagaStatus.COMPLETED, lease_owner="", lease_expires_at=None)
        self.save(**fields)
        self.record(step, SagaEventType.STEP_COMPLETED, **(outcome or {}))
        if last:
            metrics.SAGAS_COMPLETED.labels(saga_type=self.saga.saga_type).inc()

    def release(self, **fields) -> None:
        self.save(lease_owner="", lease_expires_at=None, **fields)

    def attempt(self, step: SagaStep, point: str, started: str, failed: str, work: Callable[[], object]) -> object:
        """Run one action or compensation under a renewed lease, recording its start.

        An atomic step's start, work and outcome commit together (a crash leaves no trace of it,
        nor of its effects); a network step's start is committed before its work, which runs
        outside any transaction. A DomainError is recorded as `failed` and raised again. `point`
        names the work for SAGA_FAULT_INJECTION ("<step>" or "<step>.compensation").
        """
        try:
            with transaction.atomic() if step.atomic else nullcontext():
                with transaction.atomic(savepoint=not step.atomic):
                    self.save(lease_expires_at=_lease_deadline())
                    self.record(step, started)
                _fault_point(f"{point}:before")
                return work()
        except errors.SagaLeaseLost:
            raise  # another runner owns the saga now: this one only stops
        except DomainError as error:
            with transaction.atomic():
                if step.atomic:  # its start was rolled back with it
                    self.record(step, started)
                self.record(step, failed, code=error.code, message=error.message)
                self.save(last_error=f"{step.name}: {error.code}: {error.message}")
            raise

    def forward(self) -> SagaInstance:
        while self.saga.current_step < len(self.steps):
            step = self.steps[self.saga.current_step]

            def run_action(step=step):
                outcome = step.action(self.context())
                _fault_point(f"{step.name}:after")
                with transaction.atomic(savepoint=not step.atomic):
                    if outcome is WAIT:
                        self.record(step, SagaEventType.STEP_WAITING)
                        self.release()
                    else:
                        self.complete(step, outcome)
                return outcome

            try:
                outcome = self.attempt(
                    step, step.name, SagaEventType.STEP_STARTED, SagaEventType.STEP_FAILED, run_action
                )
            except errors.SagaLeaseLost:
                raise
            except DomainError as error:
                reason = f"{error.code}: {error.message}"
                return self.compensate(remaining=self.saga.current_step + 1, reason=reason)
            if outcome is WAIT:
                break
        return self.saga

    def compensate(self, *, remaining: int, reason: str) -> SagaInstance:
        payload = self.saga.payload
        if reason and not payload.get("compensation_reason"):
            payload = {**payload, "compensation_reason": reason}
        self.save(status=SagaStatus.COMPENSATING, current_step=remaining, payload=payload)
        while self.saga.current_step > 0:
            step = self.steps[self.saga.current_step - 1]

            def run_compensation(step=step):
                step.compensation(self.context())
                _fault_point(f"{step.name}.compensation:after")
                with transaction.atomic(savepoint=not step.atomic):
                    self.save(current_step=self.saga.current_step - 1)
                    self.record(step, SagaEventType.COMPENSATION_COMPLETED)

            try:
                self.attempt(
                    step,
                    f"{step.name}.compensation",
                    SagaEventType.COMPENSATION_STARTED,
                    SagaEventType.COMPENSATION_FAILED,
                    run_compensation,
                )
            except errors.SagaLeaseLost:
                raise
            except DomainError as error:
                return self.compensation_failed(step, error)
        self.release(status=SagaStatus.COMPENSATED)
        metrics.SAGAS_COMPENSATED.labels(saga_type=self.saga.saga_type).inc()
        return self.saga

    def compensation_failed(self, step: SagaStep, error: DomainError) -> SagaInstance:
        last_error = f"compensating {step.name}: {error.code}: {error.message}"
        if self.saga.attempts >= settings.SAGA_MAX_ATTEMPTS:
            self.release(status=SagaStatus.FAILED, last_error=last_error)
            metrics.SAGAS_FAILED.labels(saga_type=self.saga.saga_type).inc()
        else:
            # No runner holds it; recovery picks it up again once the delay is over.
            retry_at = timezone.now() + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS)
            self.save(lease_owner="", lease_expires_at=retry_at, last_error=last_error)
        return self.saga

    def compensate_from_here(self, reason: str) -> SagaInstance:
        if self.saga.status == SagaStatus.STARTED:
            # The step at current_step may have started (or be waiting): it is compensated too.
            return self.compensate(remaining=min(self.saga.current_step + 1, len(self.steps)), reason=reason)
        return self.compensate(remaining=self.saga.current_step, reason=reason)


def _claim(saga_id: UUID, *, statuses: list[str], expired_before: datetime | None = None) -> _Runner | None:
    """Take the lease of a saga in one of `statuses`; None when it is in another status."""
    owner = uuid.uuid4().hex
    now = timezone.now()
    free = Q(lease_expires_at__lt=expired_before or now)
    if expired_before is None:
        free |= Q(lease_owner="")
    claimed = (
        SagaInstance.objects.filter(pk=saga_id, status__in=statuses)
        .filter(free)
        .update(lease_owner=owner, lease_expires_at=_lease_deadline(), attempts=F("attempts") + 1, updated_at=now)
    )
    if claimed:
        return _Runner(SagaInstance.objects.get(pk=saga_id), owner)
    saga = SagaInstance.objects.filter(pk=saga_id).only("status").first()
    if saga is None:
        raise errors.SagaNotFound()
    if saga.status in statuses:
        raise errors.SagaBusy()
    return None


def saga_start(*, saga_type: str, payload: dict) -> SagaInstance:
    """Create a saga and run it as far as it goes.

    The first step runs in the transaction that creates the instance, and must complete or
    refuse: when it refuses (a DomainError, or a unique key it claims is taken), nothing is left
    behind, not even the saga, since nothing happened that needs compensating.
    """
    owner = uuid.uuid4().hex
    with transaction.atomic():
        saga = SagaInstance.objects.create(
            saga_type=saga_type, payload=payload, attempts=1, lease_owner=owner, lease_expires_at=_lease_deadline()
        )
        runner = _Runner(saga, owner)
        first = runner.steps[0]
        runner.record(first, SagaEventType.STEP_STARTED)
        runner.complete(first, first.action(runner.context()))
    return runner.forward()


def saga_resume(*, saga_id: UUID, payload_update: dict) -> SagaInstance:
    """Continue a waiting saga with what the external event brought (merged into its payload)."""
    runner = _claim(saga_id, statuses=[SagaStatus.STARTED])
    if runner is None:
        raise errors.SagaNotWaiting()
    runner.save(payload={**runner.saga.payload, **payload_update})
    return runner.forward()


def saga_compensate(*, saga_id: UUID, reason: str) -> SagaInstance:
    """Undo a saga that is waiting, stuck, compensating or failed (completed ones: see schedule)."""
    runner = _claim(saga_id, statuses=[SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED])
    if runner is None:
        raise errors.SagaNotCompensable()
    return runner.compensate_from_here(reason)


def saga_schedule_compensation(*, saga_id: UUID, reason: str) -> None:
    """In the caller's transaction, turn a completed or waiting saga to COMPENSATING, due now.

    The caller decides under its own row locks and commits; it then runs `saga_compensate`. If the
    process dies in between, recovery finds the saga due and compensates it.
    """
    saga = SagaInstance.objects.select_for_update().get(pk=saga_id)
    if saga.status in (SagaStatus.COMPENSATING, SagaStatus.COMPENSATED):
        return
    if saga.status not in (SagaStatus.STARTED, SagaStatus.COMPLETED):
        raise errors.SagaNotCompensable()
    if saga.lease_owner and saga.lease_expires_at and saga.lease_expires_at > timezone.now():
        raise errors.SagaBusy()
    steps = len(_definitions[saga.saga_type].steps)
    saga.current_step = steps if saga.status == SagaStatus.COMPLETED else min(saga.current_step + 1, steps)
    saga.status = SagaStatus.COMPENSATING
    saga.payload = {**saga.payload, "compensation_reason": saga.payload.get("compensation_reason") or reason}
    saga.lease_owner = ""
    saga.lease_expires_at = timezone.now()
    saga.save(update_fields=["current_step", "status", "payload", "lease_owner", "lease_expires_at", "updated_at"])


def saga_retry(*, saga_id: UUID) -> SagaInstance:
    """Run a stuck saga again: forward when it was still running, its compensation otherwise."""
    runner = _claim(saga_id, statuses=[SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED])
    if runner is None:
        raise errors.SagaNotRetryable()
    if runner.saga.status == SagaStatus.STARTED:
        return runner.forward()
    return runner.compensate(remaining=runner.saga.current_step, reason="")


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
            runner = _claim(saga_id, statuses=[SagaStatus.STARTED, SagaStatus.COMPENSATING], expired_before=now)
            if runner is None:
                continue
            if runner.saga.status == SagaStatus.STARTED and runner.saga.attempts <= settings.SAGA_MAX_ATTEMPTS:
                saga = runner.forward()
            else:
                saga = runner.compensate_from_here("recovery: too many attempts")
        except (errors.SagaBusy, errors.SagaLeaseLost):
            continue  # another runner took it over meanwhile
        outcomes[saga.status] += 1
    return dict(outcomes)
