"""What the pages draw and how they say times: bars scaled to the tallest, durations in
their two largest units."""

import pytest

from console.charts import HEIGHT, WIDTH, drawn
from console.templatetags.console_time import age, iso, when


def test_bars_are_scaled_to_the_largest_count_one_a_step():
    chart = drawn([[0, 2], [60_000, 4], [120_000, 0], [180_000, 1]])

    assert (chart.top, chart.first_ms) == (4, 0)
    assert [(bar.height, bar.y) for bar in chart.bars] == [
        (HEIGHT / 2, HEIGHT / 2),
        (HEIGHT, 0),
        (0, HEIGHT),
        (HEIGHT / 4, HEIGHT * 3 / 4),
    ]
    assert [bar.x for bar in chart.bars] == [0, WIDTH / 4, WIDTH / 2, WIDTH * 3 / 4]


def test_a_series_of_zeros_draws_no_height():
    chart = drawn([[0, 0], [60_000, 0]])

    assert chart.top == 0 and {bar.height for bar in chart.bars} == {0}


@pytest.mark.parametrize(
    "ms, said",
    [
        (None, "–"),
        (0, "0 ms"),
        (850, "850 ms"),
        (5_400, "5.4 s"),
        (200_000, "3 min 20 s"),
        (7_500_000, "2 h 5 min"),
        (90_000_000, "1 d 1 h"),
    ],
)
def test_a_duration_is_said_in_its_two_largest_units(ms, said):
    assert age(ms) == said


def test_a_time_is_said_in_utc_to_the_second():
    assert when(1796498189062) == "2026-12-05 19:16:29 UTC"
    assert iso(1796498189062) == "2026-12-05T19:16:29.062+00:00"
    assert when(None) == iso(None) == ""
