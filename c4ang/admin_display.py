"""Small display helpers shared by the apps' admin classes."""

from collections.abc import Mapping
from enum import StrEnum

from django.utils.html import format_html


class Tone(StrEnum):
    """How a status reads at a glance; each app's admin says which tone each of its statuses has."""

    WAITING = "#b7791f"
    MOVING = "#2b6cb0"
    WORKING = "#c05621"
    GOOD = "#2f855a"
    DONE = "#276749"
    UNDONE = "#6b46c1"
    BAD = "#9b2c2c"
    NEUTRAL = "#4a5568"


def status_badge(status: str, label: str, tones: Mapping[str, Tone]) -> str:
    """The status in its tone, worded by its label in the staff's language (`get_status_display()`)."""
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-size:11px;'
        'white-space:nowrap">{}</span>',
        tones.get(status, Tone.NEUTRAL),
        label,
    )


def krw(amount) -> str:
    return "-" if amount is None else f"₩{int(amount):,}"
