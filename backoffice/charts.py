"""Server-side SVG charts for the staff dashboard: geometry here, drawing in the template.

No JavaScript and no CDN: the dashboard renders offline and can be tested as plain HTML.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    maximum: float
    label_every: int

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def bar_chart(points: list[tuple[str, float, str]], *, width: int = 720, height: int = 160) -> BarChart:
    """Vertical bars for (label, value, display text) points, scaled to the largest value."""
    maximum = max((value for _, value, _ in points), default=0) or 1
    slot = width / max(len(points), 1)
    bar_width = max(slot * 0.8, 1)
    bars = []
    for index, (label, value, display) in enumerate(points):
        bar_height = height * value / maximum
        bars.append(
            Bar(
                label=label,
                value=value,
                display=display,
                x=round(index * slot + (slot - bar_width) / 2, 2),
                y=round(height - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
            )
        )
    # Label at most ~10 bars along the axis so that dates stay legible.
    return BarChart(bars=bars, width=width, height=height, maximum=maximum, label_every=max(len(points) // 10, 1))
