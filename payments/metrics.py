from prometheus_client import Counter

PAYMENT_APPROVALS = Counter("c4ang_payment_approvals_total", "Payments approved by the PG.", ["provider"])
PAYMENT_DECLINES = Counter("c4ang_payment_declines_total", "Payments declined by the PG.", ["provider", "code"])
PAYMENT_TIMEOUTS = Counter("c4ang_payment_timeouts_total", "Payment calls the PG did not answer.", ["provider"])
PAYMENT_REFUNDS = Counter("c4ang_payment_refunds_total", "Payments refunded (cancelled at the PG).", ["provider"])
