from datetime import datetime

import pytest

from geo.hours_words import describe_hours, describe_next_opening, next_opening


@pytest.mark.parametrize(
    ("expression", "zh", "en"),
    [
        (
            "Mo-Fr 08:30-12:00,14:30-17:30",
            "周一至周五 08:30–12:00, 14:30–17:30",
            "Mon–Fri 08:30–12:00, 14:30–17:30",
        ),
        ("24/7", "全天24小时开放", "Open 24/7"),
        ("Mo-Su 07:00-22:00", "每天 07:00–22:00", "Daily 07:00–22:00"),
        (
            "Mo-Fr 08:00-20:00; Sa,Su 09:00-18:00",
            "周一至周五 08:00–20:00；周六、周日 09:00–18:00",
            "Mon–Fri 08:00–20:00; Sat, Sun 09:00–18:00",
        ),
        ("Mo-Su 18:00-02:00", "每天 18:00–次日02:00", "Daily 18:00–next day 02:00"),
        ("Sa off", "周六 休息", "Sat closed"),
        ("PH off; Mo 10:00-12:00", "PH off; Mo 10:00-12:00", "PH off; Mo 10:00-12:00"),
    ],
)
def test_hours_in_words(expression: str, zh: str, en: str) -> None:
    assert describe_hours(expression, "zh") == zh
    assert describe_hours(expression, "en") == en


def test_next_opening_in_words() -> None:
    hours = "Mo-Fr 08:30-12:00,14:30-17:30"
    lunch = datetime(2026, 11, 26, 13, 0)  # a Thursday
    assert next_opening(hours, datetime(2026, 11, 26, 9, 0)) is None  # open
    when = next_opening(hours, lunch)
    assert when == datetime(2026, 11, 26, 14, 30)
    assert describe_next_opening(when, lunch) == "今天 14:30 开放"
    friday_night = datetime(2026, 11, 27, 18, 0)
    monday = next_opening(hours, friday_night)
    assert monday == datetime(2026, 11, 30, 8, 30)
    assert describe_next_opening(monday, friday_night, "en") == "opens Mon 08:30"
    assert describe_next_opening(datetime(2026, 11, 28, 9, 0), friday_night) == "明天 09:00 开放"
