"""Opening hours in words a rider reads, and when a closed station opens next.

E.g. "周一至周五 08:30–12:00, 14:30–17:30" and "明天 08:30 开放".

The common shapes of OSM ``opening_hours`` (day ranges and lists, several time spans, spans
past midnight, ``24/7``, ``off``) are put in words; anything else is shown as written.
"""

from __future__ import annotations

import re
from datetime import datetime

from geo.hours import parse_opening_hours

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_NAMES = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
WORDS = {
    "zh": {
        "always": "全天24小时开放",
        "every_day": "每天",
        "to": "至",
        "and": "、",
        "closed": "休息",
        "next_day": "次日",
        "rule_sep": "；",
        "today": "今天",
        "tomorrow": "明天",
        "opens": "{when} {time} 开放",
    },
    "en": {
        "always": "Open 24/7",
        "every_day": "Daily",
        "to": "–",
        "and": ", ",
        "closed": "closed",
        "next_day": "next day ",
        "rule_sep": "; ",
        "today": "today",
        "tomorrow": "tomorrow",
        "opens": "opens {when} {time}",
    },
}
_DAY_SPEC = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(-(Mo|Tu|We|Th|Fr|Sa|Su))?$")
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


def _days(spec: str, lang: str) -> str | None:
    w, names = WORDS[lang], DAY_NAMES[lang]
    parts = []
    for item in spec.split(","):
        found = _DAY_SPEC.match(item)
        if not found:
            return None
        first, last = DAYS.index(found.group(1)), DAYS.index(found.group(3) or found.group(1))
        if (first, last) == (0, 6):
            return w["every_day"]
        parts.append(names[first] if first == last else f"{names[first]}{w['to']}{names[last]}")
    return w["and"].join(parts)


def _spans(spec: str, lang: str) -> str | None:
    w = WORDS[lang]
    if spec == "off":
        return w["closed"]
    out = []
    for item in spec.split(","):
        found = _SPAN.match(item.strip())
        if not found:
            return None
        h1, m1, h2, m2 = found.groups()
        overnight = (int(h2), int(m2)) <= (int(h1), int(m1)) or int(h2) >= 24
        end = f"{int(h2) % 24:02d}:{m2}"
        out.append(f"{h1}:{m1}–{w['next_day'] if overnight else ''}{end}")
    return ", ".join(out)


def describe_hours(expression: str, lang: str = "zh") -> str:
    """Opening hours in words (``lang`` ``zh`` or ``en``); the expression itself if unusual.

    Parameters
    ----------
    expression
        An OSM ``opening_hours`` value, e.g. ``Mo-Fr 08:30-12:00,14:30-17:30; Sa 09:00-12:00``.
    lang
        ``zh`` (default) or ``en``.

    Returns
    -------
    str
        E.g. ``周一至周五 08:30–12:00, 14:30–17:30；周六 09:00–12:00``.
    """
    w = WORDS[lang]
    text = expression.strip()
    if text == "24/7":
        return w["always"]
    rules = []
    for rule in (r.strip() for r in text.split(";") if r.strip()):
        head, _, rest = rule.partition(" ")
        days = _days(head, lang) if _DAY_SPEC.match(head.split(",")[0]) else None
        if days is None:  # no day part: the times apply every day
            days, rest = w["every_day"], rule
        spans = _spans(rest.strip(), lang)
        if spans is None:
            return expression
        rules.append(f"{days} {spans}")
    return w["rule_sep"].join(rules) if rules else expression


def next_opening(expression: str, at: datetime) -> datetime | None:
    """When a place closed at ``at`` (naive local time) opens next; None if open or never."""
    oh = parse_opening_hours(expression)
    if oh.is_open(at):
        return None
    change = oh.next_change(at)
    return change if change is not None and oh.is_open(change) else None


def describe_next_opening(when: datetime, now: datetime, lang: str = "zh") -> str:
    """The next opening ``when``, seen at ``now``, in words: "明天 08:30 开放"."""
    w = WORDS[lang]
    days = (when.date() - now.date()).days
    if days == 0:
        day = w["today"]
    elif days == 1:
        day = w["tomorrow"]
    elif days < 7:
        day = DAY_NAMES[lang][when.weekday()]
    else:
        day = when.strftime("%Y-%m-%d")
    return w["opens"].format(when=day, time=when.strftime("%H:%M"))


_ZH_DAYS = {
    "一": "Mo",
    "二": "Tu",
    "三": "We",
    "四": "Th",
    "五": "Fr",
    "六": "Sa",
    "日": "Su",
    "天": "Su",
}
_ZH_RULE = re.compile(
    r"^(?:(每天|每日|全天|周([一二三四五六日天])\s*(?:至|到|-|~|—)\s*周?([一二三四五六日天])"
    r"|周([一二三四五六日天])))?"
    r"\s*(\d{1,2})[:：](\d{2})\s*(?:-|~|—|–|至|到)\s*(\d{1,2})[:：](\d{2})$"
)


def opening_hours_from_text(text: str) -> str:
    """An OSM ``opening_hours`` value from OSM syntax or simple Chinese.

    ``每天8:00-18:00`` → ``Mo-Su 08:00-18:00``; ``周一至周五 8:30-17:30`` → ``Mo-Fr 08:30-17:30``;
    ``24小时`` → ``24/7``; several rules may be separated by ``；`` or ``;``.

    Raises
    ------
    ValidationError
        When the text is neither valid OSM syntax nor one of these Chinese shapes.
    """
    from geo.errors import ValidationError

    value = text.strip()
    try:
        parse_opening_hours(value)
        return value
    except ValidationError:
        pass
    if value in ("24小时", "24小时开放", "全天24小时", "全天"):
        return "24/7"
    rules: list[str] = []
    last_days: str | None = None
    for part in re.split(r"[;；,，、]\s*", value):
        found = _ZH_RULE.match(part.strip())
        if not found:
            msg = (
                f"opening hours {text!r} are not understood; write e.g. 每天8:00-18:00, "
                "周一至周五 8:30-17:30 or OSM syntax (Mo-Fr 08:30-17:30)"
            )
            raise ValidationError(msg)
        every, d1, d2, one, h1, m1, h2, m2 = found.groups()
        span = f"{int(h1):02d}:{m1}-{int(h2):02d}:{m2}"
        if d1 and d2:
            days = f"{_ZH_DAYS[d1]}-{_ZH_DAYS[d2]}"
        elif one:
            days = _ZH_DAYS[one]
        elif every or last_days is None:
            days = "Mo-Su"
        else:  # "8:30-12:00, 14:30-17:30": a second span of the same days
            rules[-1] += f",{span}"
            continue
        rules.append(f"{days} {span}")
        last_days = days
    result = "; ".join(rules)
    parse_opening_hours(result)
    return result
