"""SVG bar charts drawn on the server: a handful of rectangles need no library, and the
page stays one request with no script."""

from dataclasses import dataclass

WIDTH, HEIGHT, GAP = 600, 120, 1


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    start_ms: int
    count: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    top: int  # the largest count, the height of the tallest bar
    first_ms: int | None  # where the first step starts


def drawn(points: list[list[int]]) -> Chart:
    """One bar a step, scaled to the largest count (a series of zeros draws no height)."""
    top = max((count for _, count in points), default=0)
    width = WIDTH / max(len(points), 1)
    bars = []
    for n, (start, count) in enumerate(points):
        height = HEIGHT * count / (top or 1)
        bars.append(
            Bar(
                round(n * width, 2),
                round(HEIGHT - height, 2),
                round(max(width - GAP, 0.5), 2),
                round(height, 2),
                start,
                count,
            )
        )
    return Chart(bars, top, points[0][0] if points else None)
