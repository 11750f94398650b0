"""The generic saga engine with a saga of its own: steps, compensations in reverse, waits, leases,
retries of failed compensations, recovery."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from c4ang.actors import Actor, ActorKind
from c4ang.errors import DomainError
from saga import engine, errors, services
from saga.models import SagaEvent, SagaInstance

pytestmark = pytest.mark.django_db

TRIP = "test_trip"
TRAVELLER = Actor(ActorKind.CUSTOMER, "traveller@example.kr")
STAFF = Actor(ActorKind.STAFF, "kim@c4ang.com")


class NoSeats(DomainError):
    code = "no_seats"
    message = "No seats left."


class Crash(BaseException):
    pass


@dataclass
class World:
    """What the test saga's steps did, and how they are told to behave."""

    done: list[str] = field(default_factory=list)
    fail_at: str = ""
    crash_at: str = ""
    wait_at: str = ""
    taken_over_at: str = ""
    compensation_fails: int = 0
    reasons: list[tuple[str, str]] = field(default_factory=list)  # what each compensation was told

    def action(self, name):
        def run(context):
            if name == self.crash_at:
                self.crash_at = ""
                raise Crash()
            if name == self.fail_at:
                raise NoSeats()
            if name == self.wait_at and "ticket" not in context.payload:
                return services.WAIT
            if name == self.taken_over_at:
                SagaInstance.objects.filter(pk=context.saga_id).update(lease_owner="someone-else")
            self.done.append(name)
            return {f"{name}_ref": f"{name.upper()}-1"}

        return run

    def compensation(self, name):
        def undo(context):
            if name == "hotel" and self.compensation_fails:
                self.compensation_fails -= 1
                raise NoSeats("The hotel did not answer.")
            self.done.append(f"undo {name}")
            self.reasons.append((context.reason, context.note, context.by))

        return undo


@pytest.fixture
def world(monkeypatch):
    world = World()
    monkeypatch.setitem(engine._definitions, TRIP, engine._definitions.get(TRIP))
    services.saga_define(
        saga_type=TRIP,
        steps=[
            services.SagaStep(name, world.action(name), world.compensation(name), atomic=name != "payment")
            for name in ("flight", "hotel", "payment", "confirm")
        ],
    )
    return world


def timeline(saga) -> list[tuple[str, str]]:
    return [(e.step, e.event_type) for e in SagaEvent.objects.filter(saga=saga).order_by("created_at")]


def test_a_saga_runs_every_step_and_keeps_what_they_return(world):
    saga = services.saga_start(saga_type=TRIP, payload={"traveller": "김민지"})

    assert world.done == ["flight", "hotel", "payment", "confirm"]
    saga.refresh_from_db()
    assert (saga.status, saga.current_step, saga.attempts, saga.lease_owner) == ("COMPLETED", 4, 1, "")
    assert saga.payload["hotel_ref"] == "HOTEL-1"
    assert saga.payload["traveller"] == "김민지"
    assert len(timeline(saga)) == 8


def test_a_failed_step_is_compensated_with_everything_before_it_in_reverse(world):
    world.fail_at = "payment"

    saga = services.saga_start(saga_type=TRIP, payload={})

    assert world.done == ["flight", "hotel", "undo payment", "undo hotel", "undo flight"]
    assert saga.status == "COMPENSATED"
    assert (saga.payload["compensation_reason"], saga.payload["compensation_note"]) == ("no_seats", "No seats left.")
    assert timeline(saga)[4:] == [
        ("payment", "STEP_STARTED"),
        ("payment", "STEP_FAILED"),
        ("payment", "COMPENSATION_STARTED"),
        ("payment", "COMPENSATION_COMPLETED"),
        ("hotel", "COMPENSATION_STARTED"),
        ("hotel", "COMPENSATION_COMPLETED"),
        ("flight", "COMPENSATION_STARTED"),
        ("flight", "COMPENSATION_COMPLETED"),
    ]


def test_a_refused_first_step_leaves_no_saga(world):
    world.fail_at = "flight"

    with pytest.raises(NoSeats):
        services.saga_start(saga_type=TRIP, payload={})

    assert SagaInstance.objects.count() == 0
    assert SagaEvent.objects.count() == 0


def test_a_waiting_saga_holds_no_lease_and_resumes(world):
    world.wait_at = "payment"
    saga = services.saga_start(saga_type=TRIP, payload={})
    assert (saga.status, saga.current_step, saga.lease_owner, saga.lease_expires_at) == ("STARTED", 2, "", None)
    assert timeline(saga)[-1] == ("payment", "STEP_WAITING")
    # Waiting is not a crash: recovery leaves it alone.
    assert services.saga_recover(now=timezone.now() + timedelta(days=1)) == {}

    saga = services.saga_resume(saga_id=saga.pk, payload_update={"ticket": "T-9"})

    assert saga.status == "COMPLETED"
    assert world.done == ["flight", "hotel", "payment", "confirm"]
    with pytest.raises(errors.SagaNotWaiting):
        services.saga_resume(saga_id=saga.pk, payload_update={})


def test_a_saga_held_by_a_runner_cannot_be_taken(world):
    world.crash_at = "payment"
    with pytest.raises(Crash):
        services.saga_start(saga_type=TRIP, payload={})
    saga = SagaInstance.objects.get()

    with pytest.raises(errors.SagaBusy):
        services.saga_compensate(saga_id=saga.pk, reason="staff", by=STAFF)
    with pytest.raises(errors.SagaBusy):
        services.saga_retry(saga_id=saga.pk)
    # Not yet expired: recovery does not touch it either.
    assert services.saga_recover() == {}


def test_recovery_resumes_a_saga_whose_runner_died(world):
    world.crash_at = "payment"
    with pytest.raises(Crash):
        services.saga_start(saga_type=TRIP, payload={})
    saga = SagaInstance.objects.get()
    assert (saga.status, saga.current_step) == ("STARTED", 2)

    outcomes = services.saga_recover(now=saga.lease_expires_at + timedelta(seconds=1))

    assert outcomes == {"COMPLETED": 1}
    assert world.done == ["flight", "hotel", "payment", "confirm"]
    saga.refresh_from_db()
    assert saga.attempts == 2


def test_recovery_compensates_a_saga_out_of_attempts(world, settings):
    settings.SAGA_MAX_ATTEMPTS = 1
    world.crash_at = "payment"
    with pytest.raises(Crash):
        services.saga_start(saga_type=TRIP, payload={})
    saga = SagaInstance.objects.get()

    outcomes = services.saga_recover(now=saga.lease_expires_at + timedelta(seconds=1))

    assert outcomes == {"COMPENSATED": 1}
    assert world.done == ["flight", "hotel", "undo payment", "undo hotel", "undo flight"]
    assert world.reasons == [("recovery_gave_up", "too many attempts", Actor.system("saga_recovery"))] * 3


def test_a_failing_compensation_is_retried_later_then_given_up(world, settings):
    settings.SAGA_MAX_ATTEMPTS = 3
    world.fail_at = "payment"
    world.compensation_fails = 5

    saga = services.saga_start(saga_type=TRIP, payload={})

    assert (saga.status, saga.current_step, saga.lease_owner) == ("COMPENSATING", 2, "")
    assert saga.last_error == "compensating hotel: no_seats: The hotel did not answer."
    retry_at = saga.lease_expires_at
    assert services.saga_recover(now=retry_at - timedelta(seconds=1)) == {}
    assert services.saga_recover(now=retry_at + timedelta(seconds=1)) == {"COMPENSATING": 1}
    saga.refresh_from_db()
    assert services.saga_recover(now=saga.lease_expires_at + timedelta(seconds=1)) == {"FAILED": 1}
    # Staff retry once the hotel answers again.
    world.compensation_fails = 0
    saga = services.saga_retry(saga_id=saga.pk)
    assert saga.status == "COMPENSATED"
    assert world.done == ["flight", "hotel", "undo payment", "undo hotel", "undo flight"]


def test_a_runner_that_lost_its_lease_stops(world):
    world.wait_at = "payment"
    saga = services.saga_start(saga_type=TRIP, payload={})
    runner = engine.claim(saga.pk, statuses=["STARTED"])
    # Another runner takes over (say, after this one stalled past its lease).
    SagaInstance.objects.filter(pk=saga.pk).update(lease_owner="someone-else")

    with pytest.raises(engine.SagaLeaseLost):
        runner.forward()


def test_completed_sagas_are_compensated_only_through_a_schedule(world):
    saga = services.saga_start(saga_type=TRIP, payload={})

    with pytest.raises(errors.SagaNotCompensable):
        services.saga_compensate(saga_id=saga.pk, reason="staff", by=STAFF)
    with pytest.raises(errors.SagaNotRetryable):
        services.saga_retry(saga_id=saga.pk)

    services.saga_schedule_compensation(saga_id=saga.pk, reason="refund", by=TRAVELLER)
    saga = services.saga_compensate(saga_id=saga.pk, reason="refund", by=TRAVELLER)

    assert saga.status == "COMPENSATED"
    assert world.done[4:] == ["undo confirm", "undo payment", "undo hotel", "undo flight"]


def test_a_scheduled_compensation_is_recovered_when_its_caller_died(world):
    saga = services.saga_start(saga_type=TRIP, payload={})
    services.saga_schedule_compensation(saga_id=saga.pk, reason="refund", by=TRAVELLER)

    assert services.saga_recover(now=timezone.now() + timedelta(seconds=1)) == {"COMPENSATED": 1}


def test_a_public_function_whose_runner_lost_its_lease_answers_busy(world):
    world.wait_at = world.taken_over_at = "payment"
    saga = services.saga_start(saga_type=TRIP, payload={})

    with pytest.raises(errors.SagaBusy):
        services.saga_resume(saga_id=saga.pk, payload_update={"ticket": "T-9"})

    # The payment call went out, but this runner recorded nothing after it: the other one has the saga.
    saga.refresh_from_db()
    assert (saga.status, saga.current_step, saga.lease_owner) == ("STARTED", 2, "someone-else")
    assert timeline(saga)[-1] == ("payment", "STEP_STARTED")
    assert world.done == ["flight", "hotel", "payment"]


def test_the_first_reason_given_is_kept_with_its_note(world):
    saga = services.saga_start(saga_type=TRIP, payload={})
    services.saga_schedule_compensation(saga_id=saga.pk, reason="refund", by=TRAVELLER, note="the traveller asked")

    saga = services.saga_compensate_for_staff(saga_id=saga.pk, by=STAFF, note="kim@c4ang.com")

    assert saga.status == "COMPENSATED"
    assert (saga.payload["compensation_reason"], saga.payload["compensation_note"]) == (
        "refund",
        "the traveller asked",
    )
    assert saga.payload["compensation_by"] == {"kind": "customer", "identity": "traveller@example.kr"}
    assert world.reasons == [("refund", "the traveller asked", TRAVELLER)] * 4


def test_a_failed_step_gives_its_error_code_as_the_reason_and_its_message_as_the_note(world):
    world.fail_at = "hotel"

    services.saga_start(saga_type=TRIP, payload={})

    assert world.reasons == [("no_seats", "No seats left.", None)] * 2


@pytest.fixture
def contended_hotel(world):
    """The trip with a contended hotel step; what the saga's records held while its work ran."""
    seen = []

    def hotel(context):
        saga = SagaInstance.objects.get(pk=context.saga_id)
        seen.append((saga.current_step, timeline(saga)[-1]))
        world.action("hotel")(context)

    services.saga_define(
        saga_type=TRIP,
        steps=[
            services.SagaStep("flight", world.action("flight"), world.compensation("flight")),
            services.SagaStep("hotel", hotel, world.compensation("hotel"), contended=True),
            services.SagaStep("payment", world.action("payment"), world.compensation("payment"), atomic=False),
            services.SagaStep("confirm", world.action("confirm"), world.compensation("confirm")),
        ],
    )
    return seen


def test_a_contended_step_records_its_completion_before_its_work(world, contended_hotel):
    saga = services.saga_start(saga_type=TRIP, payload={})

    assert contended_hotel == [(2, ("hotel", "STEP_COMPLETED"))]
    assert world.done == ["flight", "hotel", "payment", "confirm"]
    assert saga.status == "COMPLETED"
    assert timeline(saga)[2:4] == [("hotel", "STEP_STARTED"), ("hotel", "STEP_COMPLETED")]


def test_a_failed_contended_step_rolls_its_completion_back_and_is_compensated_from_itself(world, contended_hotel):
    world.fail_at = "hotel"

    saga = services.saga_start(saga_type=TRIP, payload={})

    assert world.done == ["flight", "undo hotel", "undo flight"]
    assert saga.status == "COMPENSATED"
    assert timeline(saga)[2:] == [
        ("hotel", "STEP_STARTED"),
        ("hotel", "STEP_FAILED"),
        ("hotel", "COMPENSATION_STARTED"),
        ("hotel", "COMPENSATION_COMPLETED"),
        ("flight", "COMPENSATION_STARTED"),
        ("flight", "COMPENSATION_COMPLETED"),
    ]


def test_a_contended_step_is_atomic_and_not_the_last(world):
    with pytest.raises(ValueError, match="contended"):
        services.saga_define(
            saga_type=TRIP,
            steps=[services.SagaStep("flight", world.action("flight"), world.compensation("flight"), contended=True)],
        )
