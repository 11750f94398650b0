from prometheus_client import Counter, Histogram

PAYMENT_APPROVALS = Counter("c4ang_payment_approvals_total", "Payments approved by the PG.", ["provider"])
PAYMENT_DECLINES = Counter("c4ang_payment_declines_total", "Payments declined by the PG.", ["provider", "code"])
PAYMENT_TIMEOUTS = Counter("c4ang_payment_timeouts_total", "Payment calls the PG did not answer.", ["provider"])
PAYMENT_REFUNDS = Counter("c4ang_payment_refunds_total", "Payments refunded (cancelled at the PG).", ["provider"])
PAYMENT_PG_DURATION = Histogram(
    "c4ang_payment_pg_duration_seconds",
    (
        "Calls to the PG by operation (confirm: a charge, cancel: a refund, fetch, issue_virtual_account) "
        "and outcome (ok, declined, no_answer)."
    ),
    ["provider", "operation", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Refund rows by why (RefundReason) and how they ended: succeeded, failed (the PG refused), pending
# (no answer: recovery asks again; it counts again when it settles).
REFUNDS = Counter("c4ang_refunds_total", "Refunds by reason and outcome.", ["reason", "outcome"])
REFUNDED_WON = Counter(
    "c4ang_refunds_won_total", "Won refunded (or asked for), by reason and outcome.", ["reason", "outcome"]
)
