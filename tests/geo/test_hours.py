from datetime import UTC, datetime

import pytest

from geo.errors import ValidationError
from geo.hours import is_open, local_minute, local_time, minute_stamp, open_mask

WED = datetime(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("expr", "hour", "expected"),
    [
        ("24/7", 3, True),
        ("Mo-Su 07:00-22:00", 6, False),
        ("Mo-Su 07:00-22:00", 7, True),
        ("Mo-Su 07:00-22:00", 22, False),
        ("Mo-Su 18:00-02:00", 1, True),  # after midnight, still Tuesday's evening
        ("Mo-Su 18:00-02:00", 3, False),
        ("Mo-Su 18:00-02:00", 23, True),
        ("Mo-Fr 08:30-12:00,14:30-17:30", 13, False),
        ("Mo-Fr 08:30-12:00,14:30-17:30", 15, True),
        ("Sa,Su 09:00-18:00", 10, False),
        ("off", 12, False),
    ],
)
def test_opening_hours_at_a_local_time(expr: str, hour: int, expected: bool) -> None:
    assert is_open(expr, WED.replace(hour=hour)) is expected


def test_aware_times_are_converted_to_china_time() -> None:
    # 23:30 UTC on Tuesday is 07:30 Wednesday in Asia/Shanghai
    at = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert is_open("Mo-Su 07:00-22:00", at) is True
    assert is_open("Mo-Su 07:00-22:00", datetime(2026, 11, 24, 23, 30)) is False


def test_weekend_rule() -> None:
    sat = datetime(2026, 11, 28, 10)
    assert is_open("Mo-Fr 08:30-12:00,14:30-17:30", sat) is False
    assert is_open("Mo-Fr 08:00-20:00; Sa,Su 09:00-18:00", sat) is True


def test_invalid_expression_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="not valid OSM opening_hours"):
        is_open("whenever we feel like it", WED)


def test_mask() -> None:
    assert list(open_mask(["24/7", "Mo-Su 18:00-02:00", "off"], WED.replace(hour=12))) == [
        True,
        False,
        False,
    ]


def test_a_minute_stamp_names_the_local_minute_it_was_taken_in() -> None:
    """The stations' eligibility memo is keyed by a stamp: it must name the right minute."""
    before = local_time(None).replace(second=0, microsecond=0)
    stamp = minute_stamp(None)
    after = local_time(None).replace(second=0, microsecond=0)
    assert isinstance(stamp, int)
    assert local_minute(stamp) in {before, after}  # China time, not UTC: 8 hours apart
    assert local_minute(stamp) != datetime.fromtimestamp(stamp * 60, UTC).replace(tzinfo=None)
    nine = WED.replace(hour=9, minute=5, second=40)
    assert minute_stamp(nine) == nine
    assert local_minute(WED.replace(hour=9, minute=5, second=40)) == WED.replace(hour=9, minute=5)
    aware = datetime(2026, 11, 25, 1, 5, 40, tzinfo=UTC)
    assert local_minute(minute_stamp(aware)) == WED.replace(hour=9, minute=5)
    with pytest.raises(ValidationError, match="years"):
        local_minute(datetime(1900, 1, 1))
