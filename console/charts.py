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


def bars(points: list[list[int]]) -> list[Bar]:
    """One bar a step, scaled to the largest count (a series of zeros draws nothing)."""
    top = max((count for _, count in points), default=0) or 1
    width = WIDTH / max(len(points), 1)
    drawn = []
    for n, (start, count) in enumerate(points):
        height = HEIGHT * count / top
        drawn.append(Bar(n * width, HEIGHT - height, max(width - GAP, 0.5), height, start, count))
    return drawn
