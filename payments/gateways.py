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

and for a virtual account (가상계좌, the `payment_token` of an order paid by deposit):

    tok_va_deposit_later   issued, waiting until deposited (`manage.py fake_deposit`, or the staff
                           test endpoint): the default, for no token or any token not listed here
    tok_va_deposit_now     issued and deposited at once (the issue answers DONE)
    tok_va_never           issued, never deposited (a deposit is refused): it expires with its order
    tok_decline[_<CODE>]   declined as for a card

The fake keeps no payment records: its paymentKey of a virtual account says the scenario, amount
and order; only deposits and cancellations are kept, in the Django cache (no timeout), where every
process of the platform (the web, the deposit command) reads them back.
"""

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

from payments.constants import AMOUNT_NOT_WHOLE_WON

logger = logging.getLogger(__name__)
KST = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class PgVirtualAccount:
    """A virtual account as the PG issued it (Toss's `virtualAccount`)."""

    bank: str  # Toss's bank code
    account_number: str
    holder_name: str
    due_at: datetime


@dataclass(frozen=True)
class PgCancel:
    """One cancel of a payment as the PG reports it (Toss's `cancels[]`)."""

    transaction_key: str
    amount: Decimal
    reason: str = ""


@dataclass(frozen=True)
class RefundAccount:
    """Where a deposited virtual account's refund goes (Toss's refundReceiveAccount)."""

    bank: str  # Toss's bank code
    account_number: str
    holder_name: str


@dataclass(frozen=True)
class PgPayment:
    """A payment as the PG reports it (Toss's Payment object, reduced to what we use)."""

    payment_key: str
    order_id: str
    # Toss's statuses: READY, IN_PROGRESS, WAITING_FOR_DEPOSIT, DONE, CANCELED, PARTIAL_CANCELED, ABORTED, EXPIRED
    status: str
    amount: Decimal
    virtual_account: PgVirtualAccount | None = None
    # A virtual account's secret: Toss's deposit callbacks for it carry the same value.
    secret: str = ""
    # Every cancel made of it (partial ones too), oldest first.
    cancels: tuple[PgCancel, ...] = ()


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
        super().__init__(AMOUNT_NOT_WHOLE_WON, f"KRW has no minor unit: {amount} won cannot be sent to the PG.")


def won(amount: Decimal) -> int:
    """The amount as the PG takes it, a whole number of won; a fractional part is refused, never truncated."""
    if amount != amount.to_integral_value():
        raise AmountNotWholeWon(amount)
    return int(amount)


# The PG's codes meaning "no such payment was ever approved": nothing to refund.
NOT_APPROVED_CODES = frozenset({"NOT_FOUND_PAYMENT", "NOT_FOUND_PAYMENT_SESSION"})
ALREADY_CANCELED = "ALREADY_CANCELED_PAYMENT"
# Toss's status of a virtual account issued and not yet paid into.
WAITING_FOR_DEPOSIT = "WAITING_FOR_DEPOSIT"


def toss_due_date(due_at: datetime) -> str:
    """A virtual account's due date as Toss takes it: shop time (KST), to the second."""
    return due_at.astimezone(KST).replace(tzinfo=None).isoformat(timespec="seconds")


class PaymentGateway(Protocol):
    name: str

    def confirm(self, *, payment_key: str, order_id: str, amount: Decimal, idempotency_key: str) -> PgPayment: ...

    def cancel(
        self,
        *,
        payment_key: str,
        amount: Decimal,
        reason: str,
        idempotency_key: str,
        refund_account: RefundAccount | None = None,
    ) -> PgPayment: ...

    def fetch(self, *, payment_key: str) -> PgPayment: ...

    def issue_virtual_account(
        self,
        *,
        order_id: str,
        amount: Decimal,
        order_name: str,
        customer_name: str,
        bank: str,
        due_at: datetime,
        idempotency_key: str,
        sandbox_token: str | None = None,
    ) -> PgPayment: ...


class FakeGateway:
    """A sandbox PG without network: the token decides the outcome, every time (only a virtual
    account's deposit and cancellation are kept, in the cache)."""

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

    def cancel(
        self,
        *,
        payment_key: str,
        amount: Decimal,
        reason: str,
        idempotency_key: str,
        refund_account: RefundAccount | None = None,
    ) -> PgPayment:
        """A cancel of `amount` (a partial one too). The fake keeps no balance of a card payment (its
        tokens are shared by every order): the refunds' own rows keep the sum within what was paid."""
        won(amount)
        if payment_key == "tok_refund_timeout":
            raise GatewayOutcomeUnknown("sandbox refund timeout")
        payment = self.fetch(payment_key=payment_key)
        if payment_key.startswith(self.VIRTUAL_ACCOUNT_PREFIX):
            if payment.status == "CANCELED":
                raise GatewayDeclined(ALREADY_CANCELED, "이미 취소된 결제 입니다.")
            # Closed for deposits; a deposit taken is given back (in part: the account stays paid).
            if payment.status != "DONE" or amount >= payment.amount:
                self._keep(payment_key, cancelled=True)
        # The same key always gets the same transaction, as a repeat at Toss gets its first answer.
        transaction_key = f"fake_cancel_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"
        return PgPayment(
            payment_key=payment_key,
            order_id=payment.order_id,
            status="CANCELED",
            amount=amount,
            cancels=(PgCancel(transaction_key=transaction_key, amount=amount, reason=reason),),
        )

    def fetch(self, *, payment_key: str) -> PgPayment:
        if payment_key in ("tok_approve", "tok_refund_timeout"):
            return PgPayment(payment_key=payment_key, order_id="", status="DONE", amount=Decimal(0))
        if account := self._virtual_account(payment_key):
            scenario, amount, order_id = account
            kept = self._kept(payment_key)
            if kept.get("cancelled"):
                status = "CANCELED"
            elif kept.get("deposited") or scenario == "now":
                status = "DONE"
            else:
                status = WAITING_FOR_DEPOSIT
            return PgPayment(payment_key=payment_key, order_id=order_id, status=status, amount=amount)
        raise GatewayDeclined("NOT_FOUND_PAYMENT", "존재하지 않는 결제 정보 입니다.")

    # --- virtual accounts ---------------------------------------------------------------------

    VIRTUAL_ACCOUNT_PREFIX = "fake_va_"
    SCENARIOS = {"tok_va_deposit_now": "now", "tok_va_deposit_later": "later", "tok_va_never": "never"}

    def issue_virtual_account(
        self,
        *,
        order_id: str,
        amount: Decimal,
        order_name: str,
        customer_name: str,
        bank: str,
        due_at: datetime,
        idempotency_key: str,
        sandbox_token: str | None = None,
    ) -> PgPayment:
        token = sandbox_token or ""
        if token.startswith("tok_decline"):
            raise self._decline(token.removeprefix("tok_decline").removeprefix("_") or "REJECT_CARD_PAYMENT")
        scenario = self.SCENARIOS.get(token, "later")
        # The same order and amount always get the same account: a repeat is answered as the first.
        payment_key = f"{self.VIRTUAL_ACCOUNT_PREFIX}{scenario}_{won(amount)}_{order_id}"
        digest = hashlib.sha256(payment_key.encode()).hexdigest()
        account = PgVirtualAccount(
            bank=bank,
            account_number=f"X{int(digest[:16], 16) % 10**13:013d}",
            holder_name=customer_name,
            due_at=due_at.replace(microsecond=0),
        )
        status = "DONE" if scenario == "now" else WAITING_FOR_DEPOSIT
        return PgPayment(
            payment_key=payment_key,
            order_id=order_id,
            status=status,
            amount=amount,
            virtual_account=account,
            secret=self.secret_of(payment_key),
        )

    def deposit(self, *, payment_key: str) -> PgPayment:
        """The customer pays into the account (a test action, not a PG call): DONE from now on."""
        payment = self.fetch(payment_key=payment_key)
        scenario = self._virtual_account(payment_key)[0]
        # Said to whoever deposits (staff, the fake_deposit command), never stored: in their language.
        if scenario == "never":
            refusal = gettext("This sandbox account (tok_va_never) never takes a deposit.")
            raise GatewayDeclined("DEPOSIT_REFUSED", refusal)
        if payment.status != WAITING_FOR_DEPOSIT:
            refusal = gettext("The account is %(status)s: it takes no deposit.") % {"status": payment.status}
            raise GatewayDeclined("DEPOSIT_REFUSED", refusal)
        self._keep(payment_key, deposited=True)
        return self.fetch(payment_key=payment_key)

    @staticmethod
    def secret_of(payment_key: str) -> str:
        """The account's secret, derived (never stored at the fake): what its deposit callbacks carry."""
        digest = hmac.new(settings.SECRET_KEY.encode(), f"fake-virtual-account:{payment_key}".encode(), "sha256")
        return f"ps_{digest.hexdigest()[:32]}"

    def _virtual_account(self, payment_key: str) -> tuple[str, Decimal, str] | None:
        """(scenario, amount, order id) of one of the fake's virtual accounts, or None."""
        if not payment_key.startswith(self.VIRTUAL_ACCOUNT_PREFIX):
            return None
        scenario, _, rest = payment_key.removeprefix(self.VIRTUAL_ACCOUNT_PREFIX).partition("_")
        amount, _, order_id = rest.partition("_")
        if scenario not in self.SCENARIOS.values() or not amount.isdigit() or not order_id:
            return None
        return scenario, Decimal(amount), order_id

    @staticmethod
    def _cache_key(payment_key: str) -> str:
        return f"payments:fake-virtual-account:{hashlib.sha256(payment_key.encode()).hexdigest()}"

    def _kept(self, payment_key: str) -> dict:
        return cache.get(self._cache_key(payment_key)) or {}

    def _keep(self, payment_key: str, **changes: bool) -> None:
        cache.set(self._cache_key(payment_key), {**self._kept(payment_key), **changes}, timeout=None)


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
        # Confirmed before (by a request whose answer we lost): take Toss's record as the answer
        # (a virtual account chosen in the widget is WAITING_FOR_DEPOSIT once confirmed).
        payment = self.fetch(payment_key=payment_key)
        confirmed = payment.status in ("DONE", WAITING_FOR_DEPOSIT)
        if not confirmed or payment.order_id != order_id or payment.amount != amount:
            raise GatewayDeclined("ALREADY_PROCESSED_PAYMENT", f"Already processed; Toss reports it {payment.status}.")
        return payment

    def cancel(
        self,
        *,
        payment_key: str,
        amount: Decimal,
        reason: str,
        idempotency_key: str,
        refund_account: RefundAccount | None = None,
    ) -> PgPayment:
        """A cancel of `amount` (Toss cancels part of a payment when cancelAmount is under its balance).
        A deposited virtual account's money goes back to `refund_account` (refundReceiveAccount)."""
        body: dict = {"cancelReason": reason[:200], "cancelAmount": won(amount)}
        if refund_account is not None:
            body["refundReceiveAccount"] = {
                "bank": refund_account.bank,
                "accountNumber": refund_account.account_number,
                "holderName": refund_account.holder_name,
            }
        return self._call("POST", f"/v1/payments/{payment_key}/cancel", json=body, idempotency_key=idempotency_key)

    def fetch(self, *, payment_key: str) -> PgPayment:
        return self._call("GET", f"/v1/payments/{payment_key}")

    def issue_virtual_account(
        self,
        *,
        order_id: str,
        amount: Decimal,
        order_name: str,
        customer_name: str,
        bank: str,
        due_at: datetime,
        idempotency_key: str,
        sandbox_token: str | None = None,
    ) -> PgPayment:
        """Toss's server-side issue (가상계좌 발급): we set the due date, Toss answers WAITING_FOR_DEPOSIT."""
        body = {
            "amount": won(amount),
            "orderId": order_id,
            "orderName": order_name[:100],
            "customerName": customer_name[:100],
            "bank": bank,
            "dueDate": toss_due_date(due_at),
        }
        return self._call("POST", "/v1/virtual-accounts", json=body, idempotency_key=idempotency_key)

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
        account = body.get("virtualAccount")
        return PgPayment(
            payment_key=str(body["paymentKey"]),
            order_id=str(body["orderId"]),
            status=str(body["status"]),
            amount=Decimal(str(body["totalAmount"])),
            virtual_account=_pg_virtual_account(account) if isinstance(account, dict) else None,
            secret=str(body.get("secret") or ""),
            cancels=tuple(_pg_cancel(cancel) for cancel in body.get("cancels") or () if isinstance(cancel, dict)),
        )
    except (KeyError, ArithmeticError, TypeError, ValueError) as error:
        raise GatewayOutcomeUnknown(f"unexpected answer from Toss: {error!r}") from None


def _pg_cancel(cancel: dict) -> PgCancel:
    return PgCancel(
        transaction_key=str(cancel["transactionKey"]),
        amount=Decimal(str(cancel["cancelAmount"])),
        reason=str(cancel.get("cancelReason") or ""),
    )


def _pg_virtual_account(account: dict) -> PgVirtualAccount:
    due_at = datetime.fromisoformat(str(account["dueDate"]))
    return PgVirtualAccount(
        # Toss's older API versions name the bank instead of its code.
        bank=str(account.get("bankCode") or account.get("bank") or ""),
        account_number=str(account["accountNumber"]),
        holder_name=str(account.get("customerName") or ""),
        due_at=due_at if due_at.tzinfo else due_at.replace(tzinfo=KST),
    )


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


# The fake's paymentKeys by outcome: what an app confirms (or sends as payment_token) without a widget.
SANDBOX_PAYMENT_KEYS = {"approve": "tok_approve", "decline": "tok_decline", "timeout": "tok_timeout"}


def client_key() -> str:
    """The active PG's public key for its payment widget (Toss's client key); the fake has none."""
    return settings.TOSS_CLIENT_KEY if settings.PAYMENT_GATEWAY == "toss" else ""


def customer_key(customer_id) -> str:
    """The widget's customerKey of a customer: stable (while SECRET_KEY is), opaque and not guessable
    from anything the customer shows, as Toss asks (2 to 50 of A-Z a-z 0-9 - _ = . @)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"pg-customer-key:{customer_id}".encode(), "sha256")
    return digest.hexdigest()[:40]


def order_name(product_names: list[str]) -> str:
    """The orderName the PG shows the customer: the first line's product and how many other lines
    ("무선 이어폰 프로 외 2건"), within Toss's 100 characters."""
    first = product_names[0] if product_names else ""
    return first[:100] if len(product_names) <= 1 else f"{first[:90]} 외 {len(product_names) - 1}건"


def idempotency_key(*parts: str) -> str:
    """A key for one operation on one payment: stable for its retries, at most 300 characters (Toss's limit)."""
    key = ":".join(parts)
    return key if len(key) <= 300 else hashlib.sha256(key.encode()).hexdigest()
