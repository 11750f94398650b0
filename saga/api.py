"""Staff-only saga tracker: list and filter, one saga with its event timeline, retry, compensate."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import FilteredListApi
from saga import errors, selectors, services
from saga.constants import SagaEventType, SagaStatus


class SagaTypeField(serializers.ChoiceField):
    """A saga type: the choices are the types defined when this field is made (DRF makes a
    serializer's fields again for each instance), since the apps above define them at start-up."""

    def __init__(self, **kwargs):
        super().__init__(choices=selectors.saga_types(), **kwargs)


SAGA_ID = "0b7d9f1e-3a5c-4e7a-9c1e-5f7a9b1d3e5f"
ORDER_ID = "6a8c0e2f-4b6d-4f8a-8c0e-2f4b6d8f0a2c"
SAGA_EXAMPLE = {
    "id": SAGA_ID,
    "saga_type": "place_order",
    "status": "STARTED",
    "current_step": 2,
    "attempts": 1,
    "lease_expires_at": None,
    "last_error": "",
    "payload": {"order_id": ORDER_ID, "order_number": "20261201-000123", "total": "129000"},
    "created_at": "2026-12-01T14:58:02+09:00",
    "updated_at": "2026-12-01T14:58:03+09:00",
}
EVENTS_EXAMPLE = [
    {
        "id": "1c3e5a7b-9d1f-4b3d-8e5a-7c9e1b3d5f7a",
        "step": "take_payment",
        "event_type": "STEP_STARTED",
        "payload": {},
        "created_at": "2026-12-01T14:58:03+09:00",
    },
    {
        "id": "2d4f6b8c-0e2a-4c4e-9f6b-8d0f2c4e6a8b",
        "step": "take_payment",
        "event_type": "STEP_WAITING",
        "payload": {"payment_id": "3e5a7c9d-1f3b-4d5f-8a7c-9e1b3d5f7a9c"},
        "created_at": "2026-12-01T14:58:03+09:00",
    },
]
SAGA_PATH_ID = OpenApiParameter(
    "saga_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The saga's id (an order's `saga_id` too)."
)


class SagaEventOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The event's id.")
    step = serializers.CharField(help_text="The step it is about, e.g. reserve_stock, take_payment.")
    event_type = serializers.ChoiceField(
        choices=SagaEventType.choices,
        help_text="What happened to the step: started, completed, failed, waiting (for the customer's payment, "
        "a deposit), or its compensation started, completed or failed.",
    )
    payload = serializers.JSONField(
        help_text="What the step recorded with it: a failure's `code` and `message`, what a wait is for, …"
    )
    created_at = serializers.DateTimeField(help_text="When it happened (ISO 8601, KST).")


@extend_schema_serializer(examples=[OpenApiExample("A saga waiting for the payment", value=SAGA_EXAMPLE)])
class SagaOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The saga's id.")
    saga_type = SagaTypeField(help_text="What the saga does: place_order places an order (stock, payment).")
    status = serializers.ChoiceField(
        choices=SagaStatus.choices,
        help_text="STARTED: running or waiting; COMPLETED: every step done; COMPENSATING: being undone; "
        "COMPENSATED: undone; FAILED: a compensation kept failing (staff must act: retry).",
    )
    current_step = serializers.IntegerField(help_text="The index of the step it is at, 0 first.")
    attempts = serializers.IntegerField(
        help_text="How many runs it has had; recovery compensates it after SAGA_MAX_ATTEMPTS (default 5)."
    )
    lease_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Until when a runner holds it (recovery takes over after); null when none runs it.",
    )
    last_error = serializers.CharField(
        help_text="The last failure as `step: code: message`; empty when none.",
    )
    payload = serializers.JSONField(
        help_text="What its steps work on (for place_order: the order's id, number, lines, amounts, …) "
        "and, once compensated, compensation_reason and compensation_note."
    )
    created_at = serializers.DateTimeField(help_text="When it started (ISO 8601, KST).")
    updated_at = serializers.DateTimeField(help_text="When it last changed (ISO 8601, KST).")


@extend_schema_serializer(
    examples=[OpenApiExample("A saga with its timeline", value={**SAGA_EXAMPLE, "events": EVENTS_EXAMPLE})]
)
class SagaDetailOutputSerializer(SagaOutputSerializer):
    events = SagaEventOutputSerializer(many=True, help_text="Its timeline, oldest first.")


@extend_schema(summary="List sagas")
class SagaListApi(FilteredListApi):
    """Staff: the sagas, newest first (cursor pages), by status and type: e.g. `status=FAILED` for
    those that need a person. Next: one saga's timeline (GET /api/v1/saga/{saga_id}/), then retry or
    compensate it."""

    permission_classes = [IsAdminUser]
    serializer_class = SagaOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=SagaStatus.choices, required=False, help_text="Only the sagas in this status."
        )
        saga_type = SagaTypeField(required=False, help_text="Only the sagas of this type.")

    selector = staticmethod(selectors.saga_list)


class SagaDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Get a saga",
        parameters=[SAGA_PATH_ID],
        responses={200: SagaDetailOutputSerializer, **domain_errors(errors.SagaNotFound)},
    )
    def get(self, request, saga_id):
        """Staff: one saga with its event timeline (each step's start, outcome and compensation)."""
        return Response(SagaDetailOutputSerializer(selectors.saga_get_with_events(saga_id=saga_id)).data)


class SagaRetryApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Retry a saga",
        parameters=[SAGA_PATH_ID],
        request=None,
        responses={
            200: SagaDetailOutputSerializer,
            **domain_errors(errors.SagaNotFound, errors.SagaNotRetryable, errors.SagaBusy),
        },
    )
    def post(self, request, saga_id):
        """Staff: run a stuck saga again now: forward when it was still running (a saga waiting for
        a payment waits again), its compensation when it was compensating or FAILED. Answers the saga
        as the run left it. A saga another runner holds is a 409 `saga_busy`: try again shortly."""
        saga = services.saga_retry(saga_id=saga_id)
        return Response(SagaDetailOutputSerializer(selectors.saga_get_with_events(saga_id=saga.pk)).data)


class SagaCompensateApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(examples=[OpenApiExample("With a note", value={"reason": "결제 대기 중 멈춤"})])
    class InputSerializer(serializers.Serializer):
        # Free text from staff: the saga's note; its reason is always a staff request.
        reason = serializers.CharField(
            max_length=200,
            required=False,
            default="",
            help_text="A note for the record, free text up to 200 characters (the compensation's reason is "
            "always staff_request; an order it cancels shows staff_cancelled).",
        )

    @extend_schema(
        summary="Compensate a saga",
        parameters=[SAGA_PATH_ID],
        request=InputSerializer,
        responses={
            200: SagaDetailOutputSerializer,
            **domain_errors(errors.SagaNotFound, errors.SagaNotCompensable, errors.SagaBusy),
        },
    )
    def post(self, request, saga_id):
        """Staff: undo a stuck or failed saga, its steps in reverse (for place_order: the payment
        cancelled or refunded, the stock released, the order cancelled). Answers the saga as the
        compensation left it."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saga = services.saga_compensate_for_staff(
            saga_id=saga_id, by=actor_of(request), note=data.validated_data["reason"]
        )
        return Response(SagaDetailOutputSerializer(selectors.saga_get_with_events(saga_id=saga.pk)).data)
