"""A stateful Toss Payments sandbox for the tests: a real HTTP server on a free loopback port that
speaks Toss's v1 contract (https://docs.tosspayments.com/reference) and keeps Toss's memory.

What it checks, as Toss does:
- HTTP Basic auth with the secret key, `base64("<secretKey>:")`; anything else is 401 UNAUTHORIZED_KEY;
- confirm, `POST /v1/payments/confirm {paymentKey, orderId, amount}`, against what the widget
  paid (`widget_pay`): an unknown or expired paymentKey is 404 NOT_FOUND_PAYMENT_SESSION, one
  confirmed (or declined) before 400 ALREADY_PROCESSED_PAYMENT, another orderId or amount (or an
  amount that is not a whole number of won) 400 INVALID_REQUEST; a card the test made decline
  answers its code (REJECT_CARD_PAYMENT is a 403) and the payment is ABORTED;
- lookup, `GET /v1/payments/{paymentKey}`: the Payment object, or 404 NOT_FOUND_PAYMENT;
- virtual account issue (가상계좌 발급), `POST /v1/virtual-accounts {amount, orderId, orderName,
  customerName, bank, dueDate}`: WAITING_FOR_DEPOSIT with its `virtualAccount` and `secret`; a bank
  code Toss issues no accounts at is 400 INVALID_BANK, a due date past or more than 30 days away
  400 INVALID_REQUEST, an orderId that has a payment already 400 DUPLICATED_ORDER_ID;
- cancel, `POST /v1/payments/{paymentKey}/cancel {cancelReason, cancelAmount?}`: the balance is
  kept (a partial cancel lowers balanceAmount and makes it PARTIAL_CANCELED, the last one
  CANCELED); more than the balance is 400 NOT_CANCELABLE_AMOUNT, a cancelled payment 400
  ALREADY_CANCELED_PAYMENT, one never approved 400 NOT_CANCELABLE_PAYMENT;
- Idempotency-Key, scoped like Toss's to method, path and key: the same key with the same body
  gets the first answer again (a decline too) and nothing is done twice; the same key with another
  body is 422 IDEMPOTENCY_KEY_REUSED. Toss would replay the first answer whatever the body; the
  sandbox is stricter so that a test sees a reused key instead of someone else's answer;
- paymentKeys are unique: `widget_pay` issues a fresh one, and refuses one it issued before;
- errors are `{code, message}`, in Toss's words.

The tests drive what happens around our calls:
- `widget_pay(order_id, amount)`: the customer paid in Toss's widget (returns the paymentKey);
  `decline="CODE"`: a card that Toss will refuse at confirm; `method=VIRTUAL_ACCOUNT`: a virtual
  account (가상계좌), confirmed as WAITING_FOR_DEPOSIT with its `secret` until `deposit`;
- `fault(endpoint, kind, times=1, payment_key=None)`: the next calls of "confirm", "cancel",
  "lookup" or "issue" answer 500/503/429 or 409 IDEMPOTENT_REQUEST_PROCESSING without doing anything,
  "timeout" (nothing done, no answer before the client gives up), "lost_answer" (done, the answer
  lost) or "hold" (done, the answer held until `release()`; `wait_held` sees them arrive);
- `cancel_in_dashboard`, `expire`, `deposit(callback_url=)` and `notify(url)`: what happens at
  Toss outside our calls, and the webhooks (PAYMENT_STATUS_CHANGED, DEPOSIT_CALLBACK) it sends;
- `calls(endpoint, idempotency_key=)`, `calls_per_key(endpoint)`, `charges`, `refunds`,
  `cancels_done(key)`, `payment(key)`: what it was asked (per Idempotency-Key) and what money moved.
  A fault can target one key (`idempotency_key=`) or partial cancels only (`partial=True`).
"""

import base64
import copy
import json
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Toss's documented test secret key (docs.tosspayments.com): a sandbox key, never a merchant's.
SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
CARD = "카드"
VIRTUAL_ACCOUNT = "가상계좌"
KST = timezone(timedelta(hours=9))

MESSAGES = {
    "UNAUTHORIZED_KEY": "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
    "NOT_FOUND_PAYMENT": "존재하지 않는 결제 정보 입니다.",
    "NOT_FOUND_PAYMENT_SESSION": "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
    "ALREADY_PROCESSED_PAYMENT": "이미 처리된 결제 입니다.",
    "ALREADY_CANCELED_PAYMENT": "이미 취소된 결제 입니다.",
    "NOT_CANCELABLE_AMOUNT": "취소 할 수 없는 금액 입니다.",
    "NOT_CANCELABLE_PAYMENT": "취소 할 수 없는 결제 입니다.",
    "INVALID_REQUEST": "잘못된 요청입니다.",
    "IDEMPOTENT_REQUEST_PROCESSING": "이전 멱등 요청이 처리 중입니다.",
    "IDEMPOTENCY_KEY_REUSED": "같은 멱등키로 다른 요청을 보냈습니다.",
    "INVALID_BANK": "유효하지 않은 은행입니다.",
    "DUPLICATED_ORDER_ID": "이미 승인 및 취소가 진행된 중복된 주문번호 입니다.",
    "FAILED_INTERNAL_SYSTEM_PROCESSING": "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.",
    "TOO_MANY_REQUESTS": "요청이 너무 많습니다. 잠시 후 다시 시도해주세요.",
}
# Card declines the tests use: Toss's code -> (HTTP status, message).
DECLINES = {
    "REJECT_CARD_PAYMENT": (403, "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
    "REJECT_CARD_COMPANY": (403, "결제 승인이 거절되었습니다."),
    "INVALID_CARD_EXPIRATION": (400, "카드 정보를 다시 확인해주세요. (유효기간)"),
    "INVALID_STOPPED_CARD": (400, "정지된 카드 입니다."),
    "EXCEED_MAX_DAILY_PAYMENT_COUNT": (400, "하루 결제 가능 횟수를 초과했습니다."),
}
FAULT_ANSWERS = {
    "500": (500, "FAILED_INTERNAL_SYSTEM_PROCESSING"),
    "503": (503, "FAILED_INTERNAL_SYSTEM_PROCESSING"),
    "429": (429, "TOO_MANY_REQUESTS"),
    "409": (409, "IDEMPOTENT_REQUEST_PROCESSING"),
}
FAULT_KINDS = {*FAULT_ANSWERS, "timeout", "lost_answer", "hold"}
ENDPOINTS = {"confirm", "cancel", "lookup", "issue"}
# The banks Toss issues virtual accounts at, by code.
VIRTUAL_ACCOUNT_BANKS = {"39", "34", "06", "03", "11", "31", "32", "45", "07", "88", "20", "71", "37", "89", "81"}


def _now() -> str:
    return datetime.now(KST).isoformat(timespec="seconds")


def error(status: int, code: str, message: str | None = None) -> tuple[int, dict]:
    return status, {"code": code, "message": message or MESSAGES[code]}


@dataclass
class Call:
    """One request the sandbox answered (or, for a timeout, did not)."""

    endpoint: str  # confirm | cancel | lookup | issue | unknown
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    replayed: bool = False  # answered from the Idempotency-Key's first answer


@dataclass
class Fault:
    endpoint: str
    kind: str
    times: int
    payment_key: str | None
    idempotency_key: str | None = None
    partial: bool = False  # a cancel of part of the balance only


@dataclass
class Widget:
    """What the customer did in the widget, which Toss keeps and checks the confirm against."""

    order_id: str | None  # None: bound by the first confirm (the one-step flow's test tokens)
    amount: int
    decline: str | None


@dataclass
class _Idempotent:
    body: Any
    answer: tuple[int, dict] | None = None


@dataclass
class _State:
    payments: dict[str, dict] = field(default_factory=dict)
    widgets: dict[str, Widget] = field(default_factory=dict)
    issued: set[str] = field(default_factory=set)
    idempotent: dict[tuple[str, str, str], _Idempotent] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    charges: list[str] = field(default_factory=list)
    refunds: list[str] = field(default_factory=list)


class TossSandbox:
    """Start it once (`start`), `reset` it between tests; `url` is its base URL."""

    def __init__(self, secret_key: str = SECRET_KEY, *, timeout_hold_s: float = 2.0):
        self.secret_key = secret_key
        # How long a "timeout" or "lost_answer" keeps the client waiting: past TOSS_TIMEOUT_SECONDS.
        self.timeout_hold_s = timeout_hold_s
        self.lock = threading.RLock()
        self.state = _State()
        self._held = threading.Semaphore(0)
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # --- the server ---------------------------------------------------------------------------

    def start(self) -> "TossSandbox":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.sandbox = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, name="toss-sandbox", daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the sandbox first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        """Forget every payment, fault and call; answers still held are let go."""
        self._release.set()
        with self.lock:
            self.state = _State()
            self._held = threading.Semaphore(0)
            self._release = threading.Event()

    # --- what the tests do ----------------------------------------------------------------------

    def widget_pay(
        self,
        order_id: str | None,
        amount: int,
        *,
        method: str = CARD,
        decline: str | None = None,
        payment_key: str | None = None,
    ) -> str:
        """The customer paid `amount` won for `order_id` in the widget: a new paymentKey, waiting for
        our confirm (IN_PROGRESS). `decline`: the card is refused at confirm with that code."""
        if decline is not None and decline not in DECLINES:
            raise ValueError(f"the sandbox knows no decline {decline!r}: add it to DECLINES")
        with self.lock:
            key = payment_key or f"tgen_{datetime.now(KST):%Y%m%d%H%M%S}{secrets.token_hex(6)}"
            if key in self.state.issued:
                raise ValueError(f"paymentKey {key} was issued before: Toss never issues one twice")
            self.state.issued.add(key)
            self.state.widgets[key] = Widget(order_id=order_id, amount=amount, decline=decline)
            self.state.payments[key] = {
                "mId": "tvivarepublica",
                "version": "2022-11-16",
                "paymentKey": key,
                "lastTransactionKey": None,
                "orderId": order_id,
                "orderName": "C4ang 주문",
                "status": "IN_PROGRESS",
                "method": method,
                "currency": "KRW",
                "totalAmount": amount,
                "balanceAmount": amount,
                "suppliedAmount": amount - amount // 11,
                "vat": amount // 11,
                "requestedAt": _now(),
                "approvedAt": None,
                "type": "NORMAL",
                "country": "KR",
                "isPartialCancelable": True,
                "cancels": None,
                "secret": None,
                "virtualAccount": None,
                "failure": None,
            }
            return key

    def fault(
        self,
        endpoint: str,
        kind: str,
        *,
        times: int = 1,
        payment_key: str | None = None,
        idempotency_key: str | None = None,
        partial: bool = False,
    ) -> None:
        """The next `times` calls of `endpoint` (of `payment_key`, with `idempotency_key`, and for a
        cancel `partial`: of part of the balance only, when given) misbehave as `kind`."""
        if endpoint not in ENDPOINTS or kind not in FAULT_KINDS:
            raise ValueError(f"no fault {kind!r} of {endpoint!r}: endpoints {ENDPOINTS}, kinds {FAULT_KINDS}")
        with self.lock:
            self.state.faults.append(Fault(endpoint, kind, times, payment_key, idempotency_key, partial))

    def release(self) -> None:
        """Let every answer held by a "hold" fault go."""
        self._release.set()

    def wait_held(self, count: int, timeout_s: float = 30) -> None:
        """Return once `count` answers are held by "hold" faults (their work done)."""
        held = self._held
        for _ in range(count):
            if not held.acquire(timeout=timeout_s):
                raise TimeoutError(f"fewer than {count} answers held after {timeout_s}s")

    def cancel_in_dashboard(self, payment_key: str, *, amount: int | None = None, reason: str = "상점 취소") -> dict:
        """Staff cancel (part of) a payment in Toss's dashboard, not through our API."""
        with self.lock:
            status, answer = self._cancel(payment_key, {"cancelReason": reason, "cancelAmount": amount})
        if status != 200:
            raise ValueError(f"the dashboard refuses: {answer}")
        return answer

    def expire(self, payment_key: str) -> dict:
        """The widget's session (or a virtual account's deposit window) ran out before a confirm (deposit)."""
        with self.lock:
            payment = self.state.payments[payment_key]
            if payment["status"] not in ("IN_PROGRESS", "WAITING_FOR_DEPOSIT"):
                raise ValueError(f"a {payment['status']} payment does not expire")
            payment["status"] = "EXPIRED"
            if payment["virtualAccount"]:
                payment["virtualAccount"]["expired"] = True
            return copy.deepcopy(payment)

    def deposit(self, payment_key: str, *, callback_url: str | None = None) -> dict:
        """The customer deposits into the virtual account: DONE; Toss sends DEPOSIT_CALLBACK to
        `callback_url` (when given). Returns the callback's body."""
        with self.lock:
            payment = self.state.payments[payment_key]
            if payment["status"] != "WAITING_FOR_DEPOSIT":
                raise ValueError(f"a {payment['status']} payment takes no deposit")
            payment.update(status="DONE", approvedAt=_now(), lastTransactionKey=_transaction_key())
            self.state.charges.append(payment_key)
            body = {
                "createdAt": datetime.now(KST).replace(tzinfo=None).isoformat(timespec="microseconds"),
                "secret": payment["secret"],
                "status": "DONE",
                "transactionKey": payment["lastTransactionKey"],
                "orderId": payment["orderId"],
            }
        if callback_url is not None:
            send(callback_url, body)
        return body

    def webhook(self, payment_key: str) -> dict:
        """The body of Toss's PAYMENT_STATUS_CHANGED webhook for the payment as it is now."""
        return {
            "eventType": "PAYMENT_STATUS_CHANGED",
            "createdAt": datetime.now(KST).replace(tzinfo=None).isoformat(timespec="microseconds"),
            "data": self.payment(payment_key),
        }

    def notify(self, url: str, payment_key: str) -> tuple[int, Any]:
        """Send PAYMENT_STATUS_CHANGED for the payment to `url`, as Toss does; the receiver's answer."""
        return send(url, self.webhook(payment_key))

    # --- what the tests read --------------------------------------------------------------------

    def payment(self, payment_key: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.state.payments[payment_key])

    def payments(self) -> dict[str, dict]:
        with self.lock:
            return copy.deepcopy(self.state.payments)

    def calls(self, endpoint: str | None = None, *, idempotency_key: str | None = None) -> list[Call]:
        """The calls made (of `endpoint`, with `idempotency_key`, when given), in order."""
        with self.lock:
            return [
                call
                for call in self.state.calls
                if (endpoint is None or call.endpoint == endpoint)
                and (idempotency_key is None or call.headers.get("idempotency-key") == idempotency_key)
            ]

    def calls_per_key(self, endpoint: str | None = None) -> dict[str, int]:
        """How many calls (of `endpoint`) carried each Idempotency-Key."""
        counts: dict[str, int] = {}
        for call in self.calls(endpoint):
            key = call.headers.get("idempotency-key", "")
            counts[key] = counts.get(key, 0) + 1
        return counts

    def cancels_done(self, payment_key: str) -> list[dict]:
        """The cancels Toss made of a payment (each took money back once), oldest first."""
        with self.lock:
            return copy.deepcopy(self.state.payments[payment_key]["cancels"] or [])

    @property
    def charges(self) -> list[str]:
        """The paymentKeys whose money Toss took (approved or deposited), in that order."""
        with self.lock:
            return list(self.state.charges)

    @property
    def refunds(self) -> list[str]:
        """The paymentKeys of every cancel that gave money back, in that order."""
        with self.lock:
            return list(self.state.refunds)

    @property
    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()

    # --- Toss's side --------------------------------------------------------------------------

    def handle(self, call: Call) -> tuple[int, dict] | None:
        """The answer to a call (None: none is ever sent); runs in the server's request thread."""
        with self.lock:
            self.state.calls.append(call)
            if call.headers.get("authorization") != self.authorization:
                return self._answered(call, error(401, "UNAUTHORIZED_KEY"))
            if call.endpoint == "unknown":
                return self._answered(call, error(404, "NOT_FOUND", "존재하지 않는 API 입니다."))
            if isinstance(call.body, str):
                return self._answered(call, error(400, "INVALID_REQUEST", "The body is not JSON."))
            fault = self._take_fault(call)
            if fault in FAULT_ANSWERS:
                status, code = FAULT_ANSWERS[fault]
                return self._answered(call, error(status, code))
            if fault == "timeout":
                release = self._release
        if fault == "timeout":
            release.wait(self.timeout_hold_s)
            return None
        with self.lock:
            answer = self._idempotent(call)
            release, held = self._release, self._held
        if fault == "lost_answer":
            release.wait(self.timeout_hold_s)
            return None
        if fault == "hold":
            held.release()
            release.wait(60)
        return answer

    def _answered(self, call: Call, answer: tuple[int, dict]) -> tuple[int, dict]:
        call.status = answer[0]
        return answer

    def _take_fault(self, call: Call) -> str | None:
        key = _payment_key_of(call)
        for fault in self.state.faults:
            if fault.times > 0 and fault.endpoint == call.endpoint and fault.payment_key in (None, key):
                if fault.idempotency_key not in (None, call.headers.get("idempotency-key")):
                    continue
                if fault.partial and not self._partial_cancel(key, call.body):
                    continue
                fault.times -= 1
                return fault.kind
        return None

    def _partial_cancel(self, key: str | None, body: Any) -> bool:
        payment = self.state.payments.get(key or "")
        amount = body.get("cancelAmount") if isinstance(body, dict) else None
        return payment is not None and type(amount) is int and amount < payment["balanceAmount"]

    def _idempotent(self, call: Call) -> tuple[int, dict]:
        key = call.headers.get("idempotency-key")
        if call.method != "POST" or not key:
            return self._answered(call, self._do(call))
        scope = (call.method, call.path, key)
        seen = self.state.idempotent.get(scope)
        if seen is None:
            self.state.idempotent[scope] = seen = _Idempotent(body=call.body)
            seen.answer = self._do(call)
            return self._answered(call, seen.answer)
        if seen.body != call.body:
            return self._answered(call, error(422, "IDEMPOTENCY_KEY_REUSED"))
        if seen.answer is None:
            return self._answered(call, error(409, "IDEMPOTENT_REQUEST_PROCESSING"))
        call.replayed = True
        return self._answered(call, copy.deepcopy(seen.answer))

    def _do(self, call: Call) -> tuple[int, dict]:
        body = call.body if isinstance(call.body, dict) else {}
        if call.endpoint == "confirm":
            return self._confirm(body)
        if call.endpoint == "issue":
            return self._issue(body)
        if call.endpoint == "cancel":
            return self._cancel(_payment_key_of(call), body)
        payment = self.state.payments.get(_payment_key_of(call))
        if payment is None:
            return error(404, "NOT_FOUND_PAYMENT")
        return 200, copy.deepcopy(payment)

    def _confirm(self, body: dict) -> tuple[int, dict]:
        key, order_id, amount = body.get("paymentKey"), body.get("orderId"), body.get("amount")
        if not isinstance(key, str) or not isinstance(order_id, str) or type(amount) is not int:
            return error(400, "INVALID_REQUEST", "paymentKey, orderId and a whole amount in won are required.")
        payment = self.state.payments.get(key)
        if payment is None or payment["status"] == "EXPIRED":
            return error(404, "NOT_FOUND_PAYMENT_SESSION")
        if payment["status"] != "IN_PROGRESS":
            return error(400, "ALREADY_PROCESSED_PAYMENT")
        widget = self.state.widgets[key]
        if widget.order_id is None:
            widget.order_id = payment["orderId"] = order_id
        if order_id != widget.order_id:
            return error(400, "INVALID_REQUEST", "주문번호가 결제 정보와 일치하지 않습니다.")
        if amount != widget.amount:
            return error(400, "INVALID_REQUEST", "결제 금액이 결제 정보와 일치하지 않습니다.")
        if widget.decline is not None:
            status, message = DECLINES[widget.decline]
            payment.update(status="ABORTED", failure={"code": widget.decline, "message": message})
            return error(status, widget.decline, message)
        payment["lastTransactionKey"] = _transaction_key()
        if payment["method"] == VIRTUAL_ACCOUNT:
            payment.update(
                status="WAITING_FOR_DEPOSIT",
                secret=f"ps_{secrets.token_urlsafe(18)}",
                virtualAccount={
                    "accountType": "일반",
                    "accountNumber": f"X{secrets.randbelow(10**13):013d}",
                    "bankCode": "88",
                    "customerName": "김토스",
                    "dueDate": (datetime.now(KST) + timedelta(days=3)).isoformat(timespec="seconds"),
                    "expired": False,
                    "settlementStatus": "INCOMPLETED",
                    "refundStatus": "NONE",
                },
            )
        else:
            payment.update(status="DONE", approvedAt=_now())
            self.state.charges.append(key)
        return 200, copy.deepcopy(payment)

    def _issue(self, body: dict) -> tuple[int, dict]:
        amount, order_id, bank = body.get("amount"), body.get("orderId"), body.get("bank")
        order_name, customer_name, due = body.get("orderName"), body.get("customerName"), body.get("dueDate")
        texts = (order_id, order_name, customer_name, bank, due)
        if type(amount) is not int or amount <= 0 or not all(isinstance(text, str) and text for text in texts):
            return error(
                400, "INVALID_REQUEST", "amount, orderId, orderName, customerName, bank and dueDate are required."
            )
        if bank not in VIRTUAL_ACCOUNT_BANKS:
            return error(400, "INVALID_BANK")
        try:
            due_at = datetime.fromisoformat(due)
        except ValueError:
            return error(400, "INVALID_REQUEST", "dueDate is yyyy-MM-dd'T'HH:mm:ss.")
        due_at = due_at if due_at.tzinfo else due_at.replace(tzinfo=KST)
        if not datetime.now(KST) < due_at <= datetime.now(KST) + timedelta(days=30):
            return error(400, "INVALID_REQUEST", "입금 기한은 발급 시점으로부터 30일 이내의 미래여야 합니다.")
        if any(payment["orderId"] == order_id for payment in self.state.payments.values()):
            return error(400, "DUPLICATED_ORDER_ID")
        key = f"tviva{datetime.now(KST):%Y%m%d%H%M%S}{secrets.token_hex(6)}"
        self.state.issued.add(key)
        self.state.payments[key] = payment = {
            "mId": "tvivarepublica",
            "version": "2022-11-16",
            "paymentKey": key,
            "lastTransactionKey": _transaction_key(),
            "orderId": order_id,
            "orderName": order_name,
            "status": "WAITING_FOR_DEPOSIT",
            "method": VIRTUAL_ACCOUNT,
            "currency": "KRW",
            "totalAmount": amount,
            "balanceAmount": amount,
            "suppliedAmount": amount - amount // 11,
            "vat": amount // 11,
            "requestedAt": _now(),
            "approvedAt": None,
            "type": "NORMAL",
            "country": "KR",
            "isPartialCancelable": True,
            "cancels": None,
            "secret": f"ps_{secrets.token_urlsafe(18)}",
            "virtualAccount": {
                "accountType": "일반",
                "accountNumber": f"X{secrets.randbelow(10**13):013d}",
                "bankCode": bank,
                "customerName": customer_name,
                "dueDate": due_at.astimezone(KST).isoformat(timespec="seconds"),
                "expired": False,
                "settlementStatus": "INCOMPLETED",
                "refundStatus": "NONE",
                "refundReceiveAccount": None,
                "depositorName": None,
            },
            "failure": None,
        }
        return 200, copy.deepcopy(payment)

    def _cancel(self, key: str, body: dict) -> tuple[int, dict]:
        payment = self.state.payments.get(key)
        if payment is None:
            return error(404, "NOT_FOUND_PAYMENT")
        reason, amount = body.get("cancelReason"), body.get("cancelAmount")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            return error(400, "INVALID_REQUEST", "cancelReason is required (200 characters at most).")
        if payment["status"] == "CANCELED":
            return error(400, "ALREADY_CANCELED_PAYMENT")
        if payment["status"] not in ("DONE", "PARTIAL_CANCELED", "WAITING_FOR_DEPOSIT"):
            return error(400, "NOT_CANCELABLE_PAYMENT")
        balance = payment["balanceAmount"]
        amount = balance if amount is None else amount
        if type(amount) is not int or amount <= 0:
            return error(400, "INVALID_REQUEST", "cancelAmount must be a positive whole amount in won.")
        if amount > balance:
            return error(400, "NOT_CANCELABLE_AMOUNT")
        refunded = payment["status"] != "WAITING_FOR_DEPOSIT"  # an account nobody paid into refunds nothing
        payment["balanceAmount"] = balance - amount
        payment["status"] = "CANCELED" if payment["balanceAmount"] == 0 else "PARTIAL_CANCELED"
        payment["lastTransactionKey"] = _transaction_key()
        payment["cancels"] = [
            *(payment["cancels"] or []),
            {
                "transactionKey": payment["lastTransactionKey"],
                "cancelReason": reason,
                "cancelAmount": amount,
                "refundableAmount": payment["balanceAmount"],
                "canceledAt": _now(),
                "cancelStatus": "DONE",
            },
        ]
        if refunded:
            self.state.refunds.append(key)
        return 200, copy.deepcopy(payment)


def _transaction_key() -> str:
    return f"txrd_{secrets.token_hex(14)}"


def _payment_key_of(call: Call) -> str | None:
    if call.endpoint == "confirm":
        return call.body.get("paymentKey") if isinstance(call.body, dict) else None
    if call.endpoint in ("cancel", "lookup"):
        return call.path.removeprefix("/v1/payments/").removesuffix("/cancel")
    return None


def _endpoint(method: str, path: str) -> str:
    if method == "POST" and path == "/v1/payments/confirm":
        return "confirm"
    if method == "POST" and path == "/v1/virtual-accounts":
        return "issue"
    rest = path.removeprefix("/v1/payments/")
    if rest == path or not rest:
        return "unknown"
    if method == "POST" and rest.endswith("/cancel") and "/" not in rest.removesuffix("/cancel"):
        return "cancel"
    if method == "GET" and "/" not in rest:
        return "lookup"
    return "unknown"


def send(url: str, body: dict) -> tuple[int, Any]:
    """POST `body` as JSON to `url`, as Toss sends its webhooks: the receiver's status and answer."""
    request = urllib.request.Request(  # noqa: S310 - loopback receivers of the tests
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as refused:
        status, payload = refused.code, refused.read()
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode(errors="replace")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self) -> None:
        sandbox: TossSandbox = self.server.sandbox  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        call = Call(
            endpoint=_endpoint(self.command, self.path),
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        answer = sandbox.handle(call)
        if answer is None:  # the client has given up; the connection just ends
            self.close_connection = True
            return
        status, payload = answer
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away while the answer was held

    def log_message(self, *args):
        pass
