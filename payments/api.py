"""The payments API: the PG's configuration, confirm (Toss two-step flow), own payments, the PG
webhooks (payment status, virtual account deposits), staff refunds, and the fake PG's test deposits.

What a confirm or a refund means for the order (continue its placement, cancel it) is the
orders module's answer, asked through payments.hooks: payments never imports orders.
"""

import hashlib
import re

from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.fields import CurrencyField, MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.throttling import PgWebhookRateThrottle
from c4ang.api.views import FilteredListApi
from customers import selectors as customer_selectors
from payments import errors, gateways, selectors, services
from payments.constants import (
    FAILURE_CODE_HELP,
    Bank,
    Gateway,
    PaymentMethod,
    PaymentStatus,
    PgPaymentStatus,
    RefundReason,
    RefundStatus,
)
from payments.models import Payment
from saga.errors import SagaBusy, SagaNotWaiting

# A Toss webhook carries one Payment object (2-3 KB; a dozen partial cancels add about 3 KB); a body
# larger than this is not Toss's, and is refused before it is read or stored.
WEBHOOK_MAX_BYTES = 8 * 1024

PAYMENT_ID = OpenApiParameter(
    "payment_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The payment's id (a payment's `id`)."
)
PAYMENT_STATUS_HELP = (
    "PENDING: the PG's answer is not known yet (asked again: confirm the same paymentKey, or wait); "
    "WAITING: a virtual account waits for its deposit; APPROVED: paid; PARTIALLY_REFUNDED: paid, part "
    "given back; REFUNDED: all given back; FAILED: refused by the PG (failure_code says why), or never "
    "approved (failure_code empty: nothing was charged)."
)
EXAMPLE_PAYMENT = {
    "id": "5f0c3c1e-8a4b-4d2e-9f7a-2b6d1e9c4a10",
    "order_id": "0b6f2c3a-9d41-4e8b-a7c5-3e1f8d2b6a94",
    "amount": 129000,
    "currency": "KRW",
    "refunded_amount": 0,
    "refunds": [],
    "status": "APPROVED",
    "method": "card",
    "provider": "toss",
    "failure_code": "",
    "failure_message": "",
    "virtual_account": None,
    "created_at": "2026-12-01T15:00:12.345678+09:00",
    "updated_at": "2026-12-01T15:00:13.901234+09:00",
}
EXAMPLE_REFUND = {
    "id": "c8a2e4f1-3b7d-4c9a-8e5f-1d2b3c4a5e6f",
    "amount": 39000,
    "currency": "KRW",
    "reason": "partial_cancel",
    "status": "SUCCEEDED",
    "created_at": "2026-12-02T10:20:30.123456+09:00",
    "updated_at": "2026-12-02T10:20:31.654321+09:00",
}


class VirtualAccountOutputSerializer(serializers.Serializer):
    """Where and by when the customer deposits (the account's secret is never shown)."""

    bank = serializers.ChoiceField(choices=Bank.choices, help_text="Toss's bank code, e.g. 88 (신한은행).")
    bank_name = serializers.CharField(help_text="The bank's name, e.g. 신한은행.")
    account_number = serializers.CharField(help_text="The account to deposit into, as the bank writes it.")
    holder_name = serializers.CharField(help_text="The name the bank shows for the account.")
    due_at = serializers.DateTimeField(help_text="Deposits after this are refused; the order then expires.")


class RefundOutputSerializer(serializers.Serializer):
    """A refund as its customer sees it."""

    id = serializers.UUIDField(help_text="The refund's id.")
    amount = MoneyField(help_text="Whole won given back (or, PENDING, being given back).")
    currency = CurrencyField()
    reason = serializers.ChoiceField(
        choices=RefundReason.choices,
        help_text="Why: partial_cancel (부분취소), return (반품), cancellation (the order cancelled), goodwill "
        "(staff), late_payment (money the PG took for an attempt the order did not use), pg_dashboard "
        "(cancelled at the PG).",
    )
    status = serializers.ChoiceField(
        choices=RefundStatus.choices,
        help_text="PENDING (asked at the PG, its answer not known yet: asked again), SUCCEEDED, FAILED "
        "(the PG refused it: nothing moved).",
    )
    created_at = serializers.DateTimeField(help_text="When it was asked for.")
    updated_at = serializers.DateTimeField(help_text="When it last changed.")


@extend_schema_serializer(
    examples=[
        OpenApiExample("A card payment", value=EXAMPLE_PAYMENT),
        OpenApiExample(
            "Partly refunded",
            value={
                **EXAMPLE_PAYMENT,
                "status": "PARTIALLY_REFUNDED",
                "refunded_amount": 39000,
                "refunds": [EXAMPLE_REFUND],
            },
        ),
        OpenApiExample(
            "Declined",
            value={
                **EXAMPLE_PAYMENT,
                "status": "FAILED",
                "failure_code": "REJECT_CARD_COMPANY",
                "failure_message": "결제 승인이 거절되었습니다.",
            },
        ),
        OpenApiExample(
            "A virtual account waiting for its deposit",
            value={
                **EXAMPLE_PAYMENT,
                "status": "WAITING",
                "method": "virtual_account",
                "virtual_account": {
                    "bank": "88",
                    "bank_name": "신한은행",
                    "account_number": "56211234567890",
                    "holder_name": "김민지",
                    "due_at": "2026-12-04T15:00:00+09:00",
                },
            },
        ),
    ]
)
class PaymentOutputSerializer(serializers.Serializer):
    """One payment attempt of an order (each paymentKey an order is paid with is one)."""

    id = serializers.UUIDField(help_text="The payment's id.")
    order_id = serializers.UUIDField(help_text="The order it pays (GET /api/v1/orders/{id}/).")
    amount = MoneyField(help_text="Whole won: the order's total when it was tried.")
    currency = CurrencyField()
    refunded_amount = MoneyField(
        help_text="Whole won reserved or given back by its refunds (PENDING ones included); never more than the amount."
    )
    refunds = RefundOutputSerializer(many=True, help_text="Every refund of the payment, newest first.")
    status = serializers.ChoiceField(choices=PaymentStatus.choices, help_text=PAYMENT_STATUS_HELP)
    method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        help_text="card: paid in the PG's widget (cards, easy pay); virtual_account: by deposit (가상계좌).",
    )
    provider = serializers.ChoiceField(choices=Gateway.choices, help_text="The PG the attempt was made at.")
    failure_code = serializers.CharField(help_text=FAILURE_CODE_HELP)
    failure_message = serializers.CharField(
        source="failure_text",
        help_text="Why it failed, for a person: the PG's words (Korean at Toss), e.g. 결제 승인이 거절되었습니다., or "
        "for our own failure codes ours, in the request's language; empty when none.",
    )
    virtual_account = serializers.SerializerMethodField(
        help_text="A virtual account's bank, number, holder and due date; null for a card."
    )
    created_at = serializers.DateTimeField(help_text="When it was tried.")
    updated_at = serializers.DateTimeField(
        help_text="When it (or one of its refunds) last changed: what ?updated_since= compares."
    )

    @extend_schema_field(VirtualAccountOutputSerializer(allow_null=True))
    def get_virtual_account(self, payment: Payment) -> dict | None:
        return VirtualAccountOutputSerializer(payment).data if payment.account_number else None


class PaymentListApi(FilteredListApi):
    """The signed-in customer's own payments (every attempt of every order), newest first by when
    each was tried. `updated_since` keeps those that changed at or after it (a status, a refund):
    poll with the time of the last answer; the order stays newest first, so the cursor is stable."""

    serializer_class = PaymentOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        updated_since = serializers.DateTimeField(
            required=False,
            help_text="ISO 8601 with its offset (2026-12-01T15:00:00+09:00): only payments changed then or later.",
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in customer
            return Payment.objects.none()
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.payment_list_for_customer(customer_id=customer.pk, **filters.validated_data)

    @extend_schema(summary="List your payments")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PaymentDetailApi(APIView):
    @extend_schema(
        summary="Get one of your payments",
        parameters=[PAYMENT_ID],
        responses={200: PaymentOutputSerializer, **domain_errors(errors.PaymentNotFound)},
    )
    def get(self, request, payment_id):
        """One of the signed-in customer's own payments, with its refunds; another customer's is a 404."""
        customer = customer_selectors.customer_for_user(user=request.user)
        payment = selectors.payment_get_for_customer(customer_id=customer.pk, payment_id=payment_id)
        return Response(PaymentOutputSerializer(payment).data)


class PaymentConfigApi(APIView):
    """Public: the payment gateway the shop runs with and what an app needs of it: the public client
    key of its payment widget (Toss's; empty for the fake sandbox, which has no widget), the methods on
    offer (virtual accounts with the banks they are issued at), and how long an order waits for each.
    An order's `next_action` carries the same, for that order: this is for showing the choices at checkout."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class MethodSerializer(serializers.Serializer):
            class BankSerializer(serializers.Serializer):
                code = serializers.ChoiceField(choices=Bank.choices, help_text="Toss's bank code: checkout's `bank`.")
                name = serializers.CharField(help_text="The bank's name, e.g. 신한은행.")

            method = serializers.ChoiceField(choices=PaymentMethod.choices, help_text="Checkout's `payment_method`.")
            name = serializers.CharField(help_text="What to call it.")
            banks = BankSerializer(many=True, help_text="virtual_account: the banks to choose from; empty for card.")

        gateway = serializers.ChoiceField(
            choices=Gateway.choices, help_text="toss: Toss Payments (its widget, then confirm); fake: the sandbox."
        )
        client_key = serializers.CharField(
            help_text="The widget's public client key (Toss's test_ck_... or live_ck_...); empty for fake."
        )
        currency = serializers.ChoiceField(choices=[("KRW", "KRW")], help_text="Every amount is whole won.")
        methods = MethodSerializer(many=True, help_text="The ways to pay on offer.")
        virtual_account_due_days = serializers.IntegerField(
            help_text="Days a virtual account waits for its deposit before its order is cancelled."
        )
        payment_timeout_minutes = serializers.IntegerField(
            help_text="Minutes a card order waits for its payment (the confirm) before it is cancelled."
        )

    @extend_schema(
        summary="Get the payment gateway's configuration",
        responses=OutputSerializer,
        examples=[
            OpenApiExample(
                "Toss Payments",
                value={
                    "gateway": "toss",
                    "client_key": "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq",
                    "currency": "KRW",
                    "methods": [
                        {"method": "card", "name": "Card", "banks": []},
                        {
                            "method": "virtual_account",
                            "name": "Virtual account (가상계좌)",
                            "banks": [{"code": "88", "name": "신한은행"}, {"code": "20", "name": "우리은행"}],
                        },
                    ],
                    "virtual_account_due_days": 3,
                    "payment_timeout_minutes": 30,
                },
            )
        ],
    )
    def get(self, request):
        return Response(self.OutputSerializer(selectors.payment_config()).data)


class PaymentConfirmApi(APIView):
    """Toss two-step flow: after the customer paid in the PG widget for a PENDING order, confirm
    with the paymentKey, orderId and amount the widget returned (the order's
    `next_action.confirm_payment` says where and with what). Repeating it is safe: the same
    payment, or the same decline, and never a second charge. A decline is a 402 whose `errors`
    carry the PG's own code and message (`{"field": null, "code": "REJECT_CARD_COMPANY", "message":
    "..."}`): the order stays PENDING (stock held), so pay again in the widget (another card) and
    confirm the new paymentKey, until the order is paid or expires. No answer from the PG is a 504:
    confirm the same paymentKey again, which answers the attempt's real outcome (approved, the
    decline, or, once the order no longer waits for it, 409 `order_not_payable` with nothing
    charged). While another confirm of the order runs, `saga_busy`; once the order is being
    cancelled, `saga_not_waiting`."""

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "After Toss's widget succeeded",
                value={
                    "paymentKey": "tgen_20261201150012a1B2c3",
                    "orderId": "0b6f2c3a-9d41-4e8b-a7c5-3e1f8d2b6a94",
                    "amount": 129000,
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        paymentKey = serializers.CharField(
            max_length=200,
            help_text="What the PG's widget handed back (Toss's paymentKey); with the fake PG one of the "
            "order's next_action.confirm_payment.sandbox_payment_keys.",
        )
        orderId = serializers.UUIDField(help_text="The order's id (next_action.confirm_payment.order_id).")
        amount = MoneyField(min_value=0, help_text="Whole won: the order's total, as the widget was opened with.")

    @extend_schema(
        summary="Confirm a payment made in the PG's widget",
        request=InputSerializer,
        responses={
            200: PaymentOutputSerializer,
            **domain_errors(
                errors.PaymentAmountMismatch,
                errors.PaymentDeclined,
                errors.OrderNotPayable,
                errors.PaymentAttemptUnsettled,
                errors.PaymentTimedOut,
                SagaBusy,
                SagaNotWaiting,
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_selectors.customer_for_user(user=request.user)
        payment = services.payment_confirm(
            customer_id=customer.pk,
            order_id=data.validated_data["orderId"],
            payment_key=data.validated_data["paymentKey"],
            amount=data.validated_data["amount"],
        )
        return Response(PaymentOutputSerializer(payment).data)


class PgWebhookApi(APIView):
    """What every PG webhook endpoint shares: public, no authentication, limited per sending IP
    (THROTTLE_PG_WEBHOOK), bodies over 8 KB refused (413) unread."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [PgWebhookRateThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the throttle first: a refused flood costs no read
        # The body is read lazily (request.data, below), never past CONTENT_LENGTH: checking it here
        # refuses a large body before any of it is read, parsed or stored.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > WEBHOOK_MAX_BYTES:
            raise errors.WebhookTooLarge()

    @extend_schema_serializer(examples=[OpenApiExample("Processed", value={"processed": True})])
    class OutputSerializer(serializers.Serializer):
        processed = serializers.BooleanField(
            help_text="true: processed now; false: a delivery processed before, or of a payment no payment here is."
        )


@extend_schema_field({"type": "string", "maxLength": 50, "enum": PgPaymentStatus.values})
class PgStatusField(serializers.CharField):
    """A payment status as the PG writes it. Its known values are documented; any is taken, since the
    body is only a hint: the payment is fetched from the PG before anything changes."""

    def __init__(self, **kwargs):
        super().__init__(max_length=50, **kwargs)


class TossDepositCallbackApi(PgWebhookApi):
    """Toss's DEPOSIT_CALLBACK for a virtual account (configure
    `https://<host>/api/v1/payments/webhooks/toss/deposit/`). The body carries the account's
    `secret`, compared with the one Toss gave at issue: a mismatch is refused (400
    `webhook_invalid`) and nothing is stored. Then the payment is fetched from Toss (at most once per
    payment in a short window, as for the other webhook; 409 `webhook_deferred` otherwise) and only
    what Toss reports is acted on: DONE pays the order. Processed once per delivery (repeats get
    200 `{"processed": false}`); an orderId without a virtual account here is answered the same,
    stored nowhere, and Toss is not asked."""

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Deposited",
                value={
                    "createdAt": "2026-12-02T09:41:27.000000",
                    "secret": "ps_Ba5PzR0ArnBp1xY9jdk8vmYKLXG6",
                    "status": "DONE",
                    "transactionKey": "9FF15E1A29D0E77C218F57262BFA4986",
                    "orderId": "0b6f2c3a-9d41-4e8b-a7c5-3e1f8d2b6a94",
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        createdAt = serializers.CharField(
            max_length=50, help_text="When Toss sent it, KST without an offset (2026-12-01T15:00:13.000000)."
        )
        secret = serializers.CharField(
            max_length=200, help_text="The virtual account's secret, as Toss gave it when it issued the account."
        )
        status = PgStatusField(help_text="The account's payment at Toss: DONE once deposited, CANCELED, ...")
        transactionKey = serializers.CharField(
            max_length=200, required=False, allow_blank=True, help_text="Toss's key of the deposit transaction."
        )
        orderId = serializers.CharField(max_length=64, help_text="The order's id, Toss's orderId.")

        def validate(self, attrs):
            _reject_unstorable_text(self.initial_data, path="")  # stored whole, as the other webhook
            return attrs

    @extend_schema(
        summary="Receive Toss's virtual account deposit callback",
        request=InputSerializer,
        responses={
            200: PgWebhookApi.OutputSerializer,
            **domain_errors(errors.WebhookInvalid, errors.WebhookDeferred, errors.RefundFailed, errors.WebhookTooLarge),
        },
    )
    def post(self, request):
        return _deposit_callback(request.data)


def _deposit_callback(body) -> Response:
    data = TossDepositCallbackApi.InputSerializer(data=body)
    data.is_valid(raise_exception=True)
    return Response({"processed": services.webhook_deposit_process(provider="toss", payload=body)})


class TossWebhookApi(PgWebhookApi):
    """Toss PAYMENT_STATUS_CHANGED deliveries. Unsigned: verified by fetching the payment from
    Toss, at most once per payment in a short window (a delivery that window cannot settle is
    deferred with 409 `webhook_deferred`, and Toss resends it). A delivery is processed once
    (stored by its event id); repeats get 200 and do nothing. A paymentKey no payment of ours
    carries is answered 200 `{"processed": false}`, stored nowhere, and Toss is not asked. Bodies
    over 8 KB are refused (413) unread; deliveries are limited per sending IP (THROTTLE_PG_WEBHOOK).
    A delivery with `eventType: DEPOSIT_CALLBACK` (its fields at the top or under `data`) is handled
    as at `webhooks/toss/deposit/`."""

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "A payment cancelled at Toss",
                value={
                    "eventType": "PAYMENT_STATUS_CHANGED",
                    "createdAt": "2026-12-03T11:05:42.000000",
                    "data": {
                        "paymentKey": "tgen_20261201150012a1B2c3",
                        "orderId": "0b6f2c3a-9d41-4e8b-a7c5-3e1f8d2b6a94",
                        "status": "CANCELED",
                        "totalAmount": 129000,
                        "balanceAmount": 0,
                    },
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        class DataSerializer(serializers.Serializer):
            paymentKey = serializers.CharField(max_length=200, help_text="The payment's key at Toss.")
            status = PgStatusField(required=False, help_text="Its status at Toss, as the delivery claims it.")

        eventType = serializers.CharField(
            max_length=100, help_text="PAYMENT_STATUS_CHANGED (or DEPOSIT_CALLBACK: see webhooks/toss/deposit/)."
        )
        createdAt = serializers.CharField(
            max_length=50, help_text="When Toss sent it, KST without an offset (2026-12-01T15:00:13.000000)."
        )
        data = DataSerializer(
            help_text="Toss's Payment object: paymentKey and status are read, the whole delivery is stored."
        )

        def validate(self, attrs):
            # The whole delivery is stored (jsonb on PostgreSQL), not only the fields read here.
            _reject_unstorable_text(self.initial_data, path="")
            return attrs

    @extend_schema(
        summary="Receive Toss's payment status webhook",
        request=InputSerializer,
        responses={
            200: PgWebhookApi.OutputSerializer,
            **domain_errors(errors.WebhookInvalid, errors.WebhookDeferred, errors.RefundFailed, errors.WebhookTooLarge),
        },
    )
    def post(self, request):
        body = request.data
        if isinstance(body, dict) and body.get("eventType") == "DEPOSIT_CALLBACK":
            fields = body["data"] if isinstance(body.get("data"), dict) else body
            return _deposit_callback({"createdAt": body.get("createdAt"), **fields})
        data = self.InputSerializer(data=body)
        data.is_valid(raise_exception=True)
        event = data.validated_data
        processed = services.webhook_process(
            provider="toss",
            event_id=_toss_event_id(event),
            event_type=event["eventType"],
            payload=body,
        )
        return Response({"processed": processed})


def _unstorable(text: str) -> str | None:
    """The error code of text that PostgreSQL's jsonb refuses: NUL characters and lone surrogates."""
    if "\x00" in text:
        return "null_characters_not_allowed"
    if any("\ud800" <= character <= "\udfff" for character in text):
        return "surrogate_characters_not_allowed"
    return None


def _reject_unstorable_text(value, *, path: str) -> None:
    """A 400 naming the field; for a key, the enclosing object (the key itself cannot be echoed back)."""
    if isinstance(value, str) and (code := _unstorable(value)):
        raise _invalid(path, gettext("This text cannot be stored."), code)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and (code := _unstorable(key)):
            raise _invalid(path, gettext("A key cannot be stored."), code)
        _reject_unstorable_text(item, path=f"{path}.{key}" if path else str(key))


def _invalid(path: str, message: str, code: str) -> serializers.ValidationError:
    detail = [ErrorDetail(message, code=code)]
    return serializers.ValidationError({path: detail} if path else detail)


def _toss_event_id(event: dict) -> str:
    # Toss's payment events carry no id of their own; a resent delivery repeats the same body,
    # so the event is identified by what it says happened and when.
    identity = f"{event['eventType']}|{event['createdAt']}|{event['data']['paymentKey']}|{event['data'].get('status')}"
    return hashlib.sha256(identity.encode()).hexdigest()


# --- staff -----------------------------------------------------------------------------------------


class StaffPaymentListApi(FilteredListApi):
    """Staff: every payment attempt, newest first, of one order or in one status when given."""

    permission_classes = [IsAdminUser]
    serializer_class = PaymentOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        order_id = serializers.UUIDField(required=False, help_text="Only this order's attempts.")
        status = serializers.ChoiceField(
            choices=PaymentStatus.choices, required=False, help_text="Only attempts in this status."
        )

    selector = staticmethod(selectors.payment_list_all)

    @extend_schema(summary="List every payment")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StaffPaymentRefundApi(APIView):
    """Staff: refund a payment in full by cancelling its order (the saga's compensation refunds at
    the PG, puts the stock back and cancels the order with the code staff_refund). Only before the
    order ships (409 `payment_not_refundable`); a part of a payment: the goodwill refund."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(examples=[OpenApiExample("A refund", value={"note": "고객 요청으로 전액 환불"})])
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(
            max_length=150,
            required=False,
            default="",
            allow_blank=True,
            help_text="Staff's words on the cancelled order, e.g. 고객 요청으로 전액 환불.",
        )

    @extend_schema(
        summary="Refund a payment by cancelling its order",
        parameters=[PAYMENT_ID],
        request=InputSerializer,
        responses={
            200: PaymentOutputSerializer,
            **domain_errors(errors.PaymentNotFound, errors.PaymentNotRefundable),
        },
    )
    def post(self, request, payment_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_refund(payment_id=payment_id, by=actor_of(request), note=data.validated_data["note"])
        return Response(PaymentOutputSerializer(payment).data)


class StaffFakeDepositApi(APIView):
    """Staff, with the fake PG and outside production only (404 otherwise): the customer deposits
    into the order's virtual account (a `tok_va_deposit_later` account, the fake's default), and
    the deposit is processed as Toss's deposit callback is: the order goes on to PAID. The same as
    `manage.py fake_deposit`. For demos and tests; never money."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(examples=[OpenApiExample("By order number", value={"order": "20261201-000123"})])
    class InputSerializer(serializers.Serializer):
        order = serializers.CharField(max_length=64, help_text="The order number (20261201-000123) or the order id.")

    def initial(self, request, *args, **kwargs):
        if settings.PAYMENT_GATEWAY != "fake" or settings.PRODUCTION:
            raise NotFound()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Deposit into an order's sandbox virtual account",
        request=InputSerializer,
        responses={
            200: PaymentOutputSerializer,
            **domain_errors(errors.VirtualAccountNotFound, errors.VirtualAccountNotWaiting, errors.DepositRefused),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_fake_deposit(order=data.validated_data["order"])
        return Response(PaymentOutputSerializer(payment).data)


# --- refunds ---------------------------------------------------------------------------------------

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Names the refund: a repeat with the same key returns that refund instead of making another.",
)


EXAMPLE_STAFF_REFUND = {
    **EXAMPLE_REFUND,
    "reason": "goodwill",
    "payment_id": EXAMPLE_PAYMENT["id"],
    "order_id": EXAMPLE_PAYMENT["order_id"],
    "note": "배송 지연 보상",
    "operation": "goodwill:5f0c3c1e-8a4b-4d2e-9f7a-2b6d1e9c4a10:refund-20261202-01",
    "idempotency_key": "c4ang:refund:goodwill:5f0c3c1e-8a4b-4d2e-9f7a-2b6d1e9c4a10:refund-20261202-01",
    "pg_transaction_key": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "failure_code": "",
    "failure_message": "",
    "requested_by": "staff:kim@c4ang.com",
    "attempts": 1,
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("A goodwill refund", value=EXAMPLE_STAFF_REFUND, status_codes=[200, 201]),
        OpenApiExample(
            "Not answered by the PG yet",
            value={**EXAMPLE_STAFF_REFUND, "status": "PENDING", "pg_transaction_key": ""},
            status_codes=[200, 202],
        ),
        OpenApiExample(
            "Refused by the PG",
            status_codes=[200],
            value={
                **EXAMPLE_STAFF_REFUND,
                "status": "FAILED",
                "pg_transaction_key": "",
                "failure_code": "NOT_CANCELABLE_AMOUNT",
                "failure_message": "취소 할 수 없는 금액 입니다.",
            },
        ),
    ]
)
class StaffRefundOutputSerializer(RefundOutputSerializer):
    payment_id = serializers.UUIDField(help_text="The payment it gives back part of.")
    order_id = serializers.UUIDField(help_text="That payment's order.")
    note = serializers.CharField(help_text="The words of whoever asked for it (staff's note, a return's reason).")
    operation = serializers.CharField(
        help_text="The business operation refunded: partial-cancel:<id>, return:<id>, ..."
    )
    idempotency_key = serializers.CharField(help_text="Sent to the PG with every call for this refund.")
    pg_transaction_key = serializers.CharField(help_text="The PG's transaction key of the cancel, once answered.")
    failure_code = serializers.CharField(
        help_text="FAILED: the PG's code (e.g. NOT_CANCELABLE_AMOUNT, ALREADY_CANCELED_PAYMENT); empty otherwise."
    )
    failure_message = serializers.CharField(help_text="FAILED: the PG's words; empty otherwise.")
    requested_by = serializers.CharField(help_text="Who asked for it, as kind:identity (staff:kim@c4ang.com).")
    attempts = serializers.IntegerField(help_text="Calls made to the PG for it.")


class StaffRefundListApi(FilteredListApi):
    """Staff: every refund, newest first, of one order, reason or status when given."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffRefundOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        order_id = serializers.UUIDField(required=False, help_text="Only this order's refunds.")
        reason = serializers.ChoiceField(choices=RefundReason.choices, required=False, help_text="Only this reason.")
        status = serializers.ChoiceField(choices=RefundStatus.choices, required=False, help_text="Only this status.")

    selector = staticmethod(selectors.refund_list_all)

    @extend_schema(summary="List every refund")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StaffGoodwillRefundApi(APIView):
    """Staff: give part of a payment back (a goodwill refund), through the PG's partial cancel. The
    Idempotency-Key header (required) names the refund: a repeat returns it, never a second refund.
    201 with the refund SUCCEEDED; 202 with it PENDING when the PG did not answer (recovery asks again
    with the same key). More than is left of the payment is 409 `refund_exceeds_paid`; the PG
    refusing it 409 `refund_declined` (nothing moved). A deposited virtual account's money goes to
    `refund_account` (Toss's refundReceiveAccount), which Toss requires for those."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Compensation",
                value={"amount": 5000, "note": "배송 지연 보상"},
            ),
            OpenApiExample(
                "To a deposited virtual account's customer",
                value={
                    "amount": 5000,
                    "note": "배송 지연 보상",
                    "refund_account": {"bank": "88", "account_number": "110123456789", "holder_name": "김민지"},
                },
            ),
        ]
    )
    class InputSerializer(serializers.Serializer):
        class RefundAccountSerializer(serializers.Serializer):
            bank = serializers.ChoiceField(choices=Bank.choices, help_text="Toss's bank code.")
            account_number = serializers.RegexField(r"^[0-9]{6,20}$", help_text="Digits only, 6 to 20.")
            holder_name = serializers.CharField(max_length=60, help_text="The account holder's name (예금주).")

        amount = MoneyField(min_value=1, help_text="Whole won, at most what is left of the payment.")
        note = serializers.CharField(
            max_length=200, required=False, default="", allow_blank=True, help_text="Why, e.g. 배송 지연 보상."
        )
        refund_account = RefundAccountSerializer(
            required=False,
            help_text="A deposited virtual account's refund goes to this account (Toss requires it for those).",
        )

        def validate_amount(self, amount):
            if amount != amount.to_integral_value():
                raise serializers.ValidationError(
                    gettext("KRW has no minor unit: whole won only."), code="not_whole_won"
                )
            return amount

    @extend_schema(
        summary="Give part of a payment back (goodwill)",
        request=InputSerializer,
        parameters=[PAYMENT_ID, IDEMPOTENCY_HEADER],
        responses={
            201: StaffRefundOutputSerializer,
            202: StaffRefundOutputSerializer,
            **domain_errors(
                errors.PaymentNotFound,
                errors.PaymentNotRefundable,
                errors.RefundExceedsPaid,
                errors.RefundDeclined,
                errors.RefundOperationReused,
                errors.RefundAmountInvalid,
            ),
        },
    )
    def post(self, request, payment_id):
        key = request.headers.get("Idempotency-Key") or ""
        if not IDEMPOTENCY_KEY.match(key):
            raise serializers.ValidationError(
                {
                    "Idempotency-Key": [
                        ErrorDetail(gettext("Required: 1 to 255 printable ASCII characters."), code="required")
                    ]
                }
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = data.validated_data.get("refund_account")
        refund = services.payment_goodwill_refund(
            payment_id=payment_id,
            amount=data.validated_data["amount"],
            by=actor_of(request),
            idempotency_key=key,
            note=data.validated_data["note"],
            refund_account=gateways.RefundAccount(**account) if account else None,
        )
        status = 202 if refund.status == RefundStatus.PENDING else 201
        return Response(StaffRefundOutputSerializer(refund).data, status=status)
