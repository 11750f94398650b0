"""Every call to a PG timed and traced: c4ang_payment_pg_duration_seconds and one span per call
(the httpx spans of a Toss call nest under it)."""

import time
from datetime import datetime
from decimal import Decimal

from c4ang import tracing
from payments import metrics
from payments.gateways import GatewayDeclined, GatewayOutcomeUnknown, PaymentGateway, PgPayment, RefundAccount


class ObservedGateway:
    """A PG adapter whose confirm (charge), cancel (refund), fetch and virtual account issues are measured."""

    def __init__(self, adapter: PaymentGateway):
        self.adapter = adapter
        self.name = adapter.name

    def _call(self, operation: str, call, **arguments) -> PgPayment:
        started = time.perf_counter()
        outcome = "error"
        with tracing.span(f"payment.{operation}", **{"payment.provider": self.name, "payment.operation": operation}):
            try:
                answer = call(**arguments)
                outcome = "ok"
                return answer
            except GatewayDeclined:
                outcome = "declined"
                raise
            except GatewayOutcomeUnknown:
                outcome = "no_answer"
                raise
            finally:
                metrics.PAYMENT_PG_DURATION.labels(provider=self.name, operation=operation, outcome=outcome).observe(
                    time.perf_counter() - started
                )

    def confirm(self, *, payment_key: str, order_id: str, amount: Decimal, idempotency_key: str) -> PgPayment:
        return self._call(
            "confirm",
            self.adapter.confirm,
            payment_key=payment_key,
            order_id=order_id,
            amount=amount,
            idempotency_key=idempotency_key,
        )

    def cancel(
        self,
        *,
        payment_key: str,
        amount: Decimal,
        reason: str,
        idempotency_key: str,
        refund_account: RefundAccount | None = None,
    ) -> PgPayment:
        return self._call(
            "cancel",
            self.adapter.cancel,
            payment_key=payment_key,
            amount=amount,
            reason=reason,
            idempotency_key=idempotency_key,
            refund_account=refund_account,
        )

    def fetch(self, *, payment_key: str) -> PgPayment:
        return self._call("fetch", self.adapter.fetch, payment_key=payment_key)

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
        return self._call(
            "issue_virtual_account",
            self.adapter.issue_virtual_account,
            order_id=order_id,
            amount=amount,
            order_name=order_name,
            customer_name=customer_name,
            bank=bank,
            due_at=due_at,
            idempotency_key=idempotency_key,
            sandbox_token=sandbox_token,
        )
