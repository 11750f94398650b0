"""Small display helpers shared by the apps' admin classes."""

from django.utils.html import format_html

STATUS_COLORS = {
    # orders
    "PENDING": "#b7791f",
    "PAID": "#2f855a",
    "SHIPPED": "#2b6cb0",
    "DELIVERED": "#276749",
    "CANCELLED": "#9b2c2c",
    # payments
    "APPROVED": "#2f855a",
    "FAILED": "#9b2c2c",
    "REFUNDED": "#6b46c1",
    # sagas
    "STARTED": "#b7791f",
    "COMPLETED": "#2f855a",
    "COMPENSATING": "#c05621",
    "COMPENSATED": "#6b46c1",
    # reviews
    "REJECTED": "#9b2c2c",
}


def status_badge(status: str) -> str:
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-size:11px">{}</span>',
        STATUS_COLORS.get(status, "#4a5568"),
        status,
    )


def krw(amount) -> str:
    return "-" if amount is None else f"₩{int(amount):,}"
