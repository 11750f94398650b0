"""The payments API: confirm (Toss two-step flow), own payments, the PG webhooks (payment status,
virtual account deposits), staff refunds, and the fake PG's test deposits.

What a confirm or a refund means for the order (continue its placement, cancel it) is the
orders module's answer, asked through payments.hooks: payments never imports orders.
"""

import hashlib
import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.fields import MoneyField
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.throttling import PgWebhookRateThrottle
from c4ang.api.views import FilteredListApi
from customers import selectors as customer_selectors
from payments import errors, gateways, selectors, services
from payments.constants import Bank, RefundReason, RefundStatus
from payments.models import Payment
from saga.errors import SagaBusy, SagaNotWaiting

# A Toss webhook carries one Payment object (2-3 KB; a dozen partial cancels add about 3 KB); a body
# larger than this is not Toss's, and is refused before it is read or stored.
WEBHOOK_MAX_BYTES = 8 * 1024


class VirtualAccountOutputSerializer(serializers.Serializer):
    """Where and by when the customer deposits (the account's secret is never shown)."""

    bank = serializers.CharField(help_text="Toss's bank code, e.g. 88.")
    bank_name = serializers.CharField(help_text="e.g. 신한은행.")
    account_number = serializers.CharField()
    holder_name = serializers.CharField(help_text="The name the bank shows for the account.")
    due_at = serializers.DateTimeField(help_text="Deposits after this are refused; the order then expires.")


class RefundOutputSerializer(serializers.Serializer):
    """A refund as its customer sees it."""

    id = serializers.UUIDField()
    amount = MoneyField()
    reason = serializers.CharField(
        help_text="partial_cancel, return, cancellation, goodwill, late_payment or pg_dashboard."
    )
    status = serializers.CharField(
        help_text="PENDING (asked at the PG, its answer not known yet: asked again), SUCCEEDED, FAILED."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PaymentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    amount = MoneyField()
    refunded_amount = MoneyField(
        help_text="Reserved or given back by its refunds (PENDING ones included); never more than the amount."
    )
    refunds = RefundOutputSerializer(many=True, help_text="Every refund of the payment, newest first.")
    status = serializers.CharField(
        help_text="PENDING, WAITING (a virtual account awaits its deposit), APPROVED, PARTIALLY_REFUNDED, "
        "REFUNDED, FAILED."
    )
    method = serializers.CharField()
    provider = serializers.CharField()
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    virtual_account = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(VirtualAccountOutputSerializer(allow_null=True))
    def get_virtual_account(self, payment: Payment) -> dict | None:
        return VirtualAccountOutputSerializer(payment).data if payment.account_number else None


class PaymentListApi(generics.ListAPIView):
    """The signed-in customer's own payments (every attempt), newest first."""

    serializer_class = PaymentOutputSerializer
    pagination_class = BoundedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        customer = customer_selectors.customer_for_user(user=self.request.user)
        return selectors.payment_list_for_customer(customer_id=customer.pk)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentOutputSerializer)
    def get(self, request, payment_id):
        customer = customer_selectors.customer_for_user(user=request.user)
        payment = selectors.payment_get_for_customer(customer_id=customer.pk, payment_id=payment_id)
        return Response(PaymentOutputSerializer(payment).data)


class PaymentConfirmApi(APIView):
    """Toss two-step flow: after the customer paid in the PG widget for a PENDING order, confirm
    with the paymentKey, orderId and amount the widget returned. Repeating it is safe. A declined
    or unanswered attempt leaves the order PENDING (stock held): pay again in the widget (another
    card) and confirm the new paymentKey, until the order is paid or expires. While another confirm
    of the order runs, `saga_busy`; once the order is being cancelled, `saga_not_waiting`."""

    class InputSerializer(serializers.Serializer):
        paymentKey = serializers.CharField(max_length=200)
        orderId = serializers.UUIDField()
        amount = MoneyField(min_value=0)

    @extend_schema(
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

    class OutputSerializer(serializers.Serializer):
        processed = serializers.BooleanField(
            help_text="false: a delivery processed before, or of a payment no payment here is."
        )


class TossDepositCallbackApi(PgWebhookApi):
    """Toss's DEPOSIT_CALLBACK for a virtual account (configure
    `https://<host>/api/v1/payments/webhooks/toss/deposit/`). The body carries the account's
    `secret`, compared with the one Toss gave at issue: a mismatch is refused (400
    `webhook_invalid`) and nothing is stored. Then the payment is fetched from Toss (at most once per
    payment in a short window, as for the other webhook; 409 `webhook_deferred` otherwise) and only
    what Toss reports is acted on: DONE pays the order. Processed once per delivery (repeats get
    200 `{"processed": false}`); an orderId without a virtual account here is answered the same,
    stored nowhere, and Toss is not asked."""

    class InputSerializer(serializers.Serializer):
        createdAt = serializers.CharField(max_length=50)
        secret = serializers.CharField(max_length=200)
        status = serializers.CharField(max_length=50)
        transactionKey = serializers.CharField(max_length=200, required=False, allow_blank=True)
        orderId = serializers.CharField(max_length=64)

        def validate(self, attrs):
            _reject_unstorable_text(self.initial_data, path="")  # stored whole, as the other webhook
            return attrs

    @extend_schema(
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

    class InputSerializer(serializers.Serializer):
        class DataSerializer(serializers.Serializer):
            paymentKey = serializers.CharField(max_length=200)
            status = serializers.CharField(max_length=50, required=False)

        eventType = serializers.CharField(max_length=100)
        createdAt = serializers.CharField(max_length=50)
        data = DataSerializer()

        def validate(self, attrs):
            # The whole delivery is stored (jsonb on PostgreSQL), not only the fields read here.
            _reject_unstorable_text(self.initial_data, path="")
            return attrs

    @extend_schema(
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
        raise _invalid(path, "This text cannot be stored.", code)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and (code := _unstorable(key)):
            raise _invalid(path, "A key cannot be stored.", code)
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


class StaffPaymentListApi(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = PaymentOutputSerializer
    pagination_class = BoundedCursorPagination

    def get_queryset(self):
        return selectors.payment_list_all()


class StaffPaymentRefundApi(APIView):
    """Staff: refund a payment by cancelling its order (the saga's compensation refunds at the PG,
    puts the stock back and cancels the order)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=150, required=False, default="")

    @extend_schema(
        request=InputSerializer,
        responses={200: PaymentOutputSerializer, **domain_errors(errors.PaymentNotRefundable)},
    )
    def post(self, request, payment_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_refund(
            payment_id=payment_id, by=actor_of(request), note=data.validated_data["reason"]
        )
        return Response(PaymentOutputSerializer(payment).data)


class StaffFakeDepositApi(APIView):
    """Staff, with the fake PG and outside production only (404 otherwise): the customer deposits
    into the order's virtual account (a `tok_va_deposit_later` account, the fake's default), and
    the deposit is processed as Toss's deposit callback is: the order goes on to PAID. The same as
    `manage.py fake_deposit`. For demos and tests; never money."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        order = serializers.CharField(max_length=64, help_text="The order number (20261201-000123) or the order id.")

    def initial(self, request, *args, **kwargs):
        if settings.PAYMENT_GATEWAY != "fake" or settings.PRODUCTION:
            raise NotFound()
        super().initial(request, *args, **kwargs)

    @extend_schema(
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


class StaffRefundOutputSerializer(RefundOutputSerializer):
    payment_id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    note = serializers.CharField()
    operation = serializers.CharField(
        help_text="The business operation refunded: partial-cancel:<id>, return:<id>, ..."
    )
    idempotency_key = serializers.CharField(help_text="Sent to the PG with every call for this refund.")
    pg_transaction_key = serializers.CharField(help_text="The PG's transaction key of the cancel, once answered.")
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    requested_by = serializers.CharField()
    attempts = serializers.IntegerField(help_text="Calls made to the PG for it.")


class StaffRefundListApi(FilteredListApi):
    """Staff: every refund, newest first, of one order, reason or status when given."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffRefundOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        order_id = serializers.UUIDField(required=False)
        reason = serializers.ChoiceField(choices=RefundReason.choices, required=False)
        status = serializers.ChoiceField(choices=RefundStatus.choices, required=False)

    selector = staticmethod(selectors.refund_list_all)


class StaffGoodwillRefundApi(APIView):
    """Staff: give part of a payment back (a goodwill refund), through the PG's partial cancel. The
    Idempotency-Key header (required) names the refund: a repeat returns it, never a second refund.
    201 with the refund SUCCEEDED; 202 with it PENDING when the PG did not answer (recovery asks again
    with the same key). More than is left of the payment is 409 `refund_exceeds_paid`; the PG
    refusing it 409 `refund_declined` (nothing moved). A deposited virtual account's money goes to
    `refund_account` (Toss's refundReceiveAccount), which Toss requires for those."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        class RefundAccountSerializer(serializers.Serializer):
            bank = serializers.ChoiceField(choices=Bank.choices, help_text="Toss's bank code.")
            account_number = serializers.RegexField(r"^[0-9]{6,20}$", help_text="Digits only.")
            holder_name = serializers.CharField(max_length=60)

        amount = MoneyField(min_value=1, help_text="Whole won.")
        note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
        refund_account = RefundAccountSerializer(required=False)

        def validate_amount(self, amount):
            if amount != amount.to_integral_value():
                raise serializers.ValidationError("KRW has no minor unit: whole won only.", code="not_whole_won")
            return amount

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
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
                {"Idempotency-Key": [ErrorDetail("Required: 1 to 255 printable ASCII characters.", code="required")]}
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
