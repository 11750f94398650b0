"""PG adapters behind one interface: `fake` (a deterministic sandbox) and `toss` (Toss Payments v1).

An adapter only talks to the PG; payments.services keeps the records. Every call that moves
money carries an Idempotency-Key that the caller created once and stored, so that retrying it
(here, or after a crash) can never charge or refund twice.

Fake sandbox test tokens (the `payment_token` of an order, or the paymentKey of a confirm):

    tok_approve            approved
    tok_decline            declined with REJECT_CARD_PAYMENT
    tok_decline_<CODE>     declined with <CODE>, e.g. tok_decline_INVALID_CARD_EXPIRATION
    tok_timeout            the PG does not answer (nothing is charged)
    tok_refund_timeout     approved, but refunding it does not answer
    anything else          declined with NOT_FOUND_PAYMENT_SESSION
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PgPayment:
    """A payment as the PG reports it (Toss's Payment object, reduced to what we use)."""

    payment_key: str
    order_id: str
    status: str  # Toss's statuses: READY, IN_PROGRESS, DONE, CANCELED, PARTIAL_CANCELED, ABORTED, EXPIRED, ...
    amount: Decimal


class GatewayDeclined(Exception):
    """The PG answered and refused, with its error code and message."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class GatewayOutcomeUnknown(Exception):
    """No answer from the PG (timeout, connection, its own 5xx): the call may or may not have happened."""


class AmountNotWholeWon(GatewayDeclined):
    """Refused before the PG is called: KRW has no minor unit, and sending 1000.50 as 1000 would
    take another amount than the one recorded."""

    def __init__(self, amount: Decimal):
        super().__init__("AMOUNT_NOT_WHOLE_WON", f"KRW has no minor unit: {amount} won cannot be sent to the PG.")


def won(amount: Decimal) -> int:
    """The amount as the PG takes it, a whole number of won; a fractional part is refused, never truncated."""
    if amount != amount.to_integral_value():
        raise AmountNotWholeWon(amount)
    return int(amount)


# The PG's codes meaning "no such payment was ever approved": nothing to refund.
NOT_APPROVED_CODES = frozenset({"NOT_FOUND_PAYMENT", "NOT_FOUND_PAYMENT_SESSION"})
ALREADY_CANCELED = "ALREADY_CANCELED_PAYMENT"


class PaymentGateway(Protocol):
    name: str

    def confirm(self, *, payment_key: str, order_id: str, amount: Decimal, idempotency_key: str) -> PgPayment: ...

    def cancel(self, *, payment_key: str, amount: Decimal, reason: str, idempotency_key: str) -> PgPayment: ...

    def fetch(self, *, payment_key: str) -> PgPayment: ...


class FakeGateway:
    """A sandbox PG without network or state: the token decides the outcome, every time."""

    name = "fake"
    DECLINE_MESSAGES = {
        "REJECT_CARD_PAYMENT": "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
        "NOT_FOUND_PAYMENT_SESSION": "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
    }

    def _decline(self, code: str) -> GatewayDeclined:
        return GatewayDeclined(code, self.DECLINE_MESSAGES.get(code, "The sandbox declined this payment."))

    def confirm(self, *, payment_key: str, order_id: str, amount: Decimal, idempotency_key: str) -> PgPayment:
        won(amount)  # the same refusal as a real PG's adapter
        if payment_key in ("tok_approve", "tok_refund_timeout"):
            return PgPayment(payment_key=payment_key, order_id=order_id, status="DONE", amount=amount)
        if payment_key == "tok_timeout":
            raise GatewayOutcomeUnknown("sandbox timeout")
        if payment_key.startswith("tok_decline"):
            raise self._decline(payment_key.removeprefix("tok_decline").removeprefix("_") or "REJECT_CARD_PAYMENT")
        raise self._decline("NOT_FOUND_PAYMENT_SESSION")

    def cancel(self, *, payment_key: str, amount: Decimal, reason: str, idempotency_key: str) -> PgPayment:
        won(amount)
        if payment_key == "tok_refund_timeout":
            raise GatewayOutcomeUnknown("sandbox refund timeout")
        payment = self.fetch(payment_key=payment_key)
        return PgPayment(payment_key=payment_key, order_id=payment.order_id, status="CANCELED", amount=amount)

    def fetch(self, *, payment_key: str) -> PgPayment:
        if payment_key in ("tok_approve", "tok_refund_timeout"):
            return PgPayment(payment_key=payment_key, order_id="", status="DONE", amount=Decimal(0))
        raise GatewayDeclined("NOT_FOUND_PAYMENT", "존재하지 않는 결제 정보 입니다.")


class TossGateway:
    """Toss Payments REST API v1: Basic auth with the secret key, JSON, {code, message} errors.

    Retries (bounded, with the same Idempotency-Key) only where a repeat cannot double-charge:
    no answer at all, Toss's own 5xx, 429, and 409 IDEMPOTENT_REQUEST_PROCESSING (the first
    request with this key is still running at Toss). Any other 4xx is Toss's final answer.
    """

    name = "toss"

    def __init__(self, *, base_url: str, secret_key: str, timeout_s: float, max_retries: int):
        self.base_url = base_url.rstrip("/")
        self.auth = httpx.BasicAuth(secret_key, "")  # base64("<secretKey>:")
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self.max_retries = max_retries

    def confirm(self, *, payment_key: str, order_id: str, amount: Decimal, idempotency_key: str) -> PgPayment:
        body = {"paymentKey": payment_key, "orderId": order_id, "amount": won(amount)}
        try:
            return self._call("POST", "/v1/payments/confirm", json=body, idempotency_key=idempotency_key)
        except GatewayDeclined as declined:
            if declined.code != "ALREADY_PROCESSED_PAYMENT":
                raise
        # Confirmed before (by a request whose answer we lost): take Toss's record as the answer.
        payment = self.fetch(payment_key=payment_key)
        if payment.status != "DONE" or payment.order_id != order_id or payment.amount != amount:
            raise GatewayDeclined("ALREADY_PROCESSED_PAYMENT", f"Already processed; Toss reports it {payment.status}.")
        return payment

    def cancel(self, *, payment_key: str, amount: Decimal, reason: str, idempotency_key: str) -> PgPayment:
        body = {"cancelReason": reason[:200], "cancelAmount": won(amount)}
        return self._call("POST", f"/v1/payments/{payment_key}/cancel", json=body, idempotency_key=idempotency_key)

    def fetch(self, *, payment_key: str) -> PgPayment:
        return self._call("GET", f"/v1/payments/{payment_key}")

    def _call(self, method: str, path: str, *, json: dict | None = None, idempotency_key: str = "") -> PgPayment:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        attempt = 0
        with httpx.Client(base_url=self.base_url, auth=self.auth, timeout=self.timeout, headers=headers) as client:
            while True:
                try:
                    response = client.request(method, path, json=json)
                except httpx.TransportError as error:
                    failure = f"{error.__class__.__name__}: {error}"
                else:
                    body = _json_or_empty(response)
                    if response.is_success:
                        return _pg_payment(body)
                    code = body.get("code") or f"HTTP_{response.status_code}"
                    message = body.get("message") or response.reason_phrase
                    retryable = response.status_code >= 500 or response.status_code == 429
                    if not retryable and code != "IDEMPOTENT_REQUEST_PROCESSING":
                        raise GatewayDeclined(code, message)
                    failure = f"{response.status_code} {code}: {message}"
                if attempt >= self.max_retries:
                    raise GatewayOutcomeUnknown(failure)
                attempt += 1
                logger.warning("toss call failed, retrying", extra={"path": path, "attempt": attempt, "error": failure})
                time.sleep(0.1 * 2**attempt)


def _json_or_empty(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _pg_payment(body: dict) -> PgPayment:
    try:
        return PgPayment(
            payment_key=str(body["paymentKey"]),
            order_id=str(body["orderId"]),
            status=str(body["status"]),
            amount=Decimal(str(body["totalAmount"])),
        )
    except (KeyError, ArithmeticError) as error:
        raise GatewayOutcomeUnknown(f"unexpected answer from Toss: {error!r}") from None


def gateway(provider: str | None = None) -> PaymentGateway:
    """The adapter of `provider` (the configured PAYMENT_GATEWAY by default), from current settings."""
    from payments.observe import ObservedGateway  # every PG call timed and traced

    provider = provider or settings.PAYMENT_GATEWAY
    if provider == "toss":
        return ObservedGateway(
            TossGateway(
                base_url=settings.TOSS_API_BASE_URL,
                secret_key=settings.TOSS_SECRET_KEY,
                timeout_s=settings.TOSS_TIMEOUT_SECONDS,
                max_retries=settings.TOSS_MAX_RETRIES,
            )
        )
    return ObservedGateway(FakeGateway())


def idempotency_key(*parts: str) -> str:
    """A key for one operation on one payment: stable for its retries, at most 300 characters (Toss's limit)."""
    key = ":".join(parts)
    return key if len(key) <= 300 else hashlib.sha256(key.encode()).hexdigest()
