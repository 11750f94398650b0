"""The saga engine: a saga is an ordered list of steps, each an action with its compensation.

Every step start, completion, failure and wait, and every compensation, is an append-only
SagaEvent. A runner holds a lease on the instance while it works, and every state write is
conditional on still holding it: a runner that stalled past its lease stops instead of racing the
one that took the saga over.

What an action does decides what happens next:
- returns a dict (merged into the payload) or None: the step completed, the next one runs;
- returns WAIT: the saga waits for an external event (`saga_resume`), holding no lease;
  `waiting(**detail)` is the same, recording why in the STEP_WAITING event (a step that waits
  again after a failed try, e.g. a declined payment the customer may retry);
- raises a DomainError: the step failed; compensations run from that step down to the first.
  A failed step may have partly taken effect (a PG timeout), so it is compensated too: every
  compensation is idempotent and does nothing when its action did nothing;
- raises anything else (a crash): the lease expires and `saga_recover` takes over.

A compensation that raises a DomainError is retried by recovery after SAGA_RETRY_DELAY_SECONDS;
after SAGA_MAX_ATTEMPTS runs the saga is FAILED and staff act through the tracker.

Why a saga is compensated is a reason (a short machine code: the failed step's error code, or
the code its caller gave) and a note (free text); the first reason given is kept, with its note.
Compensations read both from their SagaContext.

Crash tests set SAGA_FAULT_INJECTION (never set in a real environment; production refuses it) to
a point of every run: "<step>:before" is after the step's start is recorded and before its work,
"<step>:after" after its work and before its outcome is recorded ("<step>.compensation:..." the
same around its compensation; a contended step's outcome is recorded before its work, in the same
transaction). The process SIGKILLs itself there, as an OOM kill would.

Other apps use these types through `saga.services`; the runner is internal to the saga app.
"""

import copy
import os
import signal
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise

from c4ang.actors import Actor, ActorKind
from c4ang.errors import DomainError
from saga import errors, metrics
from saga.constants import SagaEventType, SagaStatus
from saga.models import SagaEvent, SagaInstance

# Where the payload keeps why the saga is compensated.
REASON_KEY = "compensation_reason"
NOTE_KEY = "compensation_note"
BY_KEY = "compensation_by"  # who asked for it, when someone did: {"kind": ..., "identity": ...}


class SagaLeaseLost(Exception):
    """Another runner took the saga over: this one stops. Never reaches a caller of saga.services."""


@dataclass(frozen=True)
class _Wait:
    detail: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"WAIT{self.detail or ''}"


WAIT = _Wait()


def waiting(**detail) -> _Wait:
    """An action's outcome: the saga waits (as with WAIT), and its STEP_WAITING event keeps `detail`."""
    return _Wait(detail)


@dataclass(frozen=True)
class SagaContext:
    saga_id: UUID
    payload: dict
    reason: str = ""  # why the saga is compensated: a short code ("" while it runs forward)
    note: str = ""  # free text that goes with the reason
    by: Actor | None = None  # who asked for the compensation (None: the saga's own failure)


@dataclass(frozen=True)
class SagaStep:
    name: str
    action: Callable[[SagaContext], dict | _Wait | None]
    compensation: Callable[[SagaContext], None]
    # The action (and the compensation) commits together with its event; False for network calls.
    atomic: bool = True
    # An atomic step whose action and compensation end with writes to rows many sagas update at once
    # (stock): its outcome is recorded before its work, so that those rows stay locked from their
    # update to COMMIT only, not through the saga's bookkeeping. Its action completes (returns None) or fails.
    contended: bool = False
    # What staff read for the step (a lazy translation, e.g. _("Take the payment")); None: its name.
    label: Promise | str | None = None


@dataclass(frozen=True)
class SagaDefinition:
    saga_type: str
    steps: tuple[SagaStep, ...]
    label: Promise | str | None = None  # what staff read for the saga type; None: its saga_type


_definitions: dict[str, SagaDefinition] = {}


def saga_define(*, saga_type: str, steps: list[SagaStep], label: Promise | str | None = None) -> SagaDefinition:
    """Register a saga type; its module calls this once when its app is ready."""
    # The last step's completion completes the saga (and counts it): it is recorded after the work.
    if any(step.contended and not step.atomic for step in steps) or (steps and steps[-1].contended):
        raise ValueError("A contended step is atomic and not the saga's last.")
    definition = SagaDefinition(saga_type=saga_type, steps=tuple(steps), label=label)
    _definitions[saga_type] = definition
    return definition


def _fault_point(point: str) -> None:
    if point == settings.SAGA_FAULT_INJECTION:
        os.kill(os.getpid(), signal.SIGKILL)


def _lease_deadline() -> datetime:
    return timezone.now() + timedelta(seconds=settings.SAGA_LEASE_SECONDS)


def compensating_fields(saga: SagaInstance, *, reason: str, note: str, by: Actor | None) -> dict:
    """The fields that turn `saga` to COMPENSATING: from which step, and why.

    A running or waiting saga's current step may have started, so it is compensated too; a
    completed saga has every step to undo; one already compensating (or failed) goes on where it
    stopped. The first reason given wins, with its note and who gave it; later ones do not rewrite why.
    """
    if saga.status in (SagaStatus.STARTED, SagaStatus.COMPLETED):
        remaining = min(saga.current_step + 1, len(_definitions[saga.saga_type].steps))
    else:
        remaining = saga.current_step
    payload = saga.payload
    if reason and not payload.get(REASON_KEY):
        payload = {**payload, REASON_KEY: str(reason), NOTE_KEY: str(note)}
        if by is not None:
            payload[BY_KEY] = {"kind": by.kind.value, "identity": by.identity}
    return {"status": SagaStatus.COMPENSATING, "current_step": remaining, "payload": payload}


class Runner:
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
            raise SagaLeaseLost()
        for name, value in fields.items():
            setattr(self.saga, name, value)

    def record(self, step: SagaStep, event_type: str, **payload) -> None:
        SagaEvent.objects.create(saga_id=self.saga.pk, step=step.name, event_type=event_type, payload=payload)

    def start(self, step: SagaStep, started: str) -> None:
        """Renew the lease and record that the step's work starts."""
        self.save(lease_expires_at=_lease_deadline())
        self.record(step, started)

    def release(self, **fields) -> None:
        self.save(lease_owner="", lease_expires_at=None, **fields)

    def observe_end(self, outcome: str) -> None:
        elapsed = (timezone.now() - self.saga.created_at).total_seconds()
        metrics.SAGA_DURATION.labels(saga_type=self.saga.saga_type, outcome=outcome).observe(max(elapsed, 0))

    def context(self) -> SagaContext:
        payload = dict(self.saga.payload)
        return SagaContext(
            saga_id=self.saga.pk,
            payload=payload,
            reason=payload.get(REASON_KEY, ""),
            note=payload.get(NOTE_KEY, ""),
            by=Actor(ActorKind(by["kind"]), by["identity"]) if (by := payload.get(BY_KEY)) else None,
        )

    def attempt(
        self,
        step: SagaStep,
        *,
        point: str,
        started: str,
        failed: str,
        work: Callable[[SagaContext], object],
        finish: Callable[[SagaStep, object], None],
    ) -> object:
        """Run `work` (a step's action or compensation) under a renewed lease, recording its start;
        `finish` records its outcome. A DomainError is recorded as `failed` and raised again.

        `point` names the work for SAGA_FAULT_INJECTION ("<step>" or "<step>.compensation").
        """

        def run() -> object:
            _fault_point(f"{point}:before")
            phase = "compensation" if point.endswith(".compensation") else "action"
            with metrics.step_observed(saga_type=self.saga.saga_type, step=step.name, phase=phase, failure=DomainError):
                outcome = work(self.context())
            _fault_point(f"{point}:after")
            return outcome

        try:
            if step.atomic:
                # One transaction: the start, the work and its outcome commit together (a crash leaves no trace).
                with transaction.atomic():
                    self.start(step, started)
                    if step.contended:
                        outcome = self.finished_first(step, run, finish)
                    else:
                        outcome = run()
                        finish(step, outcome)
            else:
                # A network call: its start commits first, the call runs outside any transaction, then its outcome.
                with transaction.atomic():
                    self.start(step, started)
                outcome = run()
                with transaction.atomic():
                    finish(step, outcome)
        except DomainError as error:
            message = str(error.message)  # lazily translated: as read in the language active now
            with transaction.atomic():
                if step.atomic:  # its start was rolled back with its work
                    self.record(step, started)
                self.record(step, failed, code=error.code, message=message)
                self.save(last_error=f"{step.name}: {error.code}: {message}")
            raise
        return outcome

    def finished_first(
        self, step: SagaStep, run: Callable[[], object], finish: Callable[[SagaStep, object], None]
    ) -> None:
        """A contended step: its outcome recorded, then its work. A failure rolls both back, and
        this runner's copy of the saga goes back to what the database holds."""
        kept = copy.copy(self.saga)
        finish(step, None)
        try:
            outcome = run()
        except DomainError:
            self.saga = kept
            raise
        if outcome is not None:
            raise TypeError(f"The contended step {step.name} returned {outcome!r}: its outcome was recorded as None.")

    def acted(self, step: SagaStep, outcome: dict | _Wait | None) -> None:
        """Record an action's outcome: the saga waits (and the lease goes), or the step completed."""
        if isinstance(outcome, _Wait):
            self.record(step, SagaEventType.STEP_WAITING, **outcome.detail)
            self.release()
        else:
            self.complete(step, outcome)

    def complete(self, step: SagaStep, outcome: dict | None) -> None:
        fields = {"payload": {**self.saga.payload, **(outcome or {})}, "current_step": self.saga.current_step + 1}
        last = fields["current_step"] == len(self.steps)
        if last:
            fields.update(status=SagaStatus.COMPLETED, lease_owner="", lease_expires_at=None)
        self.save(**fields)
        self.record(step, SagaEventType.STEP_COMPLETED, **(outcome or {}))
        if last:
            metrics.SAGAS_COMPLETED.labels(saga_type=self.saga.saga_type).inc()
            self.observe_end("completed")

    def compensated(self, step: SagaStep, _outcome: object) -> None:
        self.save(current_step=self.saga.current_step - 1)
        self.record(step, SagaEventType.COMPENSATION_COMPLETED)

    def forward(self) -> SagaInstance:
        """Run the steps from the current one until the saga completes, waits, or a step fails."""
        while self.saga.current_step < len(self.steps):
            step = self.steps[self.saga.current_step]
            try:
                outcome = self.attempt(
                    step,
                    point=step.name,
                    started=SagaEventType.STEP_STARTED,
                    failed=SagaEventType.STEP_FAILED,
                    work=step.action,
                    finish=self.acted,
                )
            except DomainError as error:
                return self.compensate(reason=error.code, note=str(error.message))
            if isinstance(outcome, _Wait):
                break
        return self.saga

    def compensate(self, *, reason: str = "", note: str = "", by: Actor | None = None) -> SagaInstance:
        """Turn the saga to COMPENSATING (see `compensating_fields`) and undo its steps in reverse."""
        self.save(**compensating_fields(self.saga, reason=reason, note=note, by=by))
        while self.saga.current_step > 0:
            step = self.steps[self.saga.current_step - 1]
            try:
                self.attempt(
                    step,
                    point=f"{step.name}.compensation",
                    started=SagaEventType.COMPENSATION_STARTED,
                    failed=SagaEventType.COMPENSATION_FAILED,
                    work=step.compensation,
                    finish=self.compensated,
                )
            except DomainError as error:
                return self.compensation_failed(step, error)
        self.release(status=SagaStatus.COMPENSATED)
        metrics.SAGAS_COMPENSATED.labels(saga_type=self.saga.saga_type).inc()
        self.observe_end("compensated")
        return self.saga

    def compensation_failed(self, step: SagaStep, error: DomainError) -> SagaInstance:
        last_error = f"compensating {step.name}: {error.code}: {error.message}"
        if self.saga.attempts >= settings.SAGA_MAX_ATTEMPTS:
            self.release(status=SagaStatus.FAILED, last_error=last_error)
            metrics.SAGAS_FAILED.labels(saga_type=self.saga.saga_type).inc()
            self.observe_end("failed")
        else:
            # No runner holds it; recovery picks it up again once the delay is over.
            retry_at = timezone.now() + timedelta(seconds=settings.SAGA_RETRY_DELAY_SECONDS)
            self.save(lease_owner="", lease_expires_at=retry_at, last_error=last_error)
        return self.saga


def start(*, saga_type: str, payload: dict) -> Runner:
    """Create a saga under a new lease and run its first step, in the caller's transaction."""
    owner = uuid.uuid4().hex
    saga = SagaInstance.objects.create(
        saga_type=saga_type,
        payload=payload,
        attempts=1,
        lease_owner=owner,
        lease_expires_at=_lease_deadline(),
    )
    runner = Runner(saga, owner)
    first = runner.steps[0]
    runner.record(first, SagaEventType.STEP_STARTED)
    with metrics.step_observed(saga_type=saga_type, step=first.name, phase="action", failure=DomainError):
        outcome = first.action(runner.context())
    runner.complete(first, outcome)
    return runner


def claim(saga_id: UUID, *, statuses: list[str], expired_before: datetime | None = None) -> Runner | None:
    """Take the lease of a saga in one of `statuses`; None when it is in another status.

    Without `expired_before`, a saga whose lease is free or expired now; with it, only one whose
    lease expired before then (recovery). Raises SagaBusy when another runner holds it.
    """
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
        return Runner(SagaInstance.objects.get(pk=saga_id), owner)
    saga = SagaInstance.objects.filter(pk=saga_id).only("status").first()
    if saga is None:
        raise errors.SagaNotFound()
    if saga.status in statuses:
        raise errors.SagaBusy()
    return None
