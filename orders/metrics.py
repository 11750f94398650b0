from prometheus_client import Counter

ORDERS_PLACED = Counter("c4ang_orders_placed_total", "Orders placed (paid, or waiting for the customer's payment).")
ORDERS_FAILED = Counter(
    "c4ang_orders_failed_total", "Orders whose placement failed (cancelled by the saga).", ["reason"]
)
ORDERS_CANCELLED = Counter(
    "c4ang_orders_cancelled_total", "Orders cancelled after placement (customer, staff, expiry)."
)

# --- returns ---
RETURNS = Counter(
    "c4ang_returns_total",
    "Return transitions, by the status reached (REQUESTED when asked for, then each step).",
    ["status"],
)
