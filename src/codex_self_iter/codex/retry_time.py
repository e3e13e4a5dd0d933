"""When a usage limit says to try again: "at 3:05 PM", "at Aug 8th, 2026 12:30 PM", "in 2 hours 5 minutes", ISO."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

MAX_AHEAD = timedelta(days=31)  # anything further is more likely a misread than a real reset time
PAST_TOLERANCE = timedelta(minutes=2)
# Codex truncates reset times to the minute: "7:16 AM" may mean 7:16:59, so only the minute's end is safe.
WHOLE_MINUTE = timedelta(minutes=1)

_UNITS = {
    "ms": 0.001, "millisecond": 0.001, "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "d": 86400, "day": 86400, "w": 604800, "week": 604800,
}  # fmt: skip
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: index for index, name in enumerate(_MONTH_NAMES, 1)}

_LEAD = r"(?:try\s+again|retry|resets?|reset\s+at|available)"
# (?![a-z]) rather than \b: the API's compact durations ("try again in 6m0s", "1h2m3.5s") have no word breaks.
_PART = (
    r"(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)(?![a-z])"
)
_DURATION_RE = re.compile(rf"{_LEAD}\s+(?:in|after)\s+((?:{_PART}[\s,]*(?:and\s+)?)+)", re.IGNORECASE)
_PART_RE = re.compile(_PART, re.IGNORECASE)
_ISO_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)")
_DATE_TIME_RE = re.compile(
    rf"{_LEAD}\s+(?:at\s+|on\s+)?([A-Za-z]{{3}})[a-z]*\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?"
    r"(?:\s+(\d{4}),?)?(?:\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?(?=[\s.,;)]|$)",
    re.IGNORECASE,
)
_TIME_RE = re.compile(
    rf"{_LEAD}\s+(?:at\s+)?(\d{{1,2}})(?::(\d{{2}}))?\s*([AaPp]\.?[Mm]\.?)?(?=[\s.,;)]|$)", re.IGNORECASE
)
_EPOCH_RE = re.compile(r'"?resets_at"?\s*[:=]\s*(\d{10})\b')
_SECONDS_RE = re.compile(r'"?(?:resets_in_seconds|retry_after)"?\s*[:=]\s*(\d+)\b')


def parse_retry_at(text: str, now: datetime) -> float | None:
    """Epoch seconds a limit message names for retrying, or None when it names no clear time.

    `now` must be timezone-aware; wall-clock times without a zone are read in now's zone (codex prints local time).
    """
    for parse in (_from_epoch, _from_iso, _from_duration, _from_date_time, _from_time):
        found = parse(text, now)
        if found is not None:
            return found.timestamp() if _plausible(found, now) else None
    return None


def _plausible(when: datetime, now: datetime) -> bool:
    return now - PAST_TOLERANCE <= when <= now + MAX_AHEAD


def _from_epoch(text: str, now: datetime) -> datetime | None:
    if match := _EPOCH_RE.search(text):
        return datetime.fromtimestamp(int(match.group(1)), tz=now.tzinfo)
    if match := _SECONDS_RE.search(text):
        return now + timedelta(seconds=int(match.group(1)))
    return None


def _from_iso(text: str, now: datetime) -> datetime | None:
    match = _ISO_RE.search(text)
    if match is None:
        return None
    try:
        when = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=now.tzinfo)


def _from_duration(text: str, now: datetime) -> datetime | None:
    match = _DURATION_RE.search(text)
    if match is None:
        return None
    seconds = 0.0
    for amount, unit in _PART_RE.findall(match.group(1)):
        seconds += float(amount) * _UNITS[_unit_key(unit)]
    return now + timedelta(seconds=seconds)


def _unit_key(unit: str) -> str:
    unit = unit.lower()
    if unit in _UNITS:
        return unit
    return unit[:-1] if unit.endswith("s") and unit[:-1] in _UNITS else unit


def _from_date_time(text: str, now: datetime) -> datetime | None:
    for match in _DATE_TIME_RE.finditer(text):
        month = _MONTHS.get(match.group(1).lower())
        if month is None:
            continue
        year = int(match.group(3)) if match.group(3) else now.year
        hour = _hour(match.group(4), match.group(6)) if match.group(4) else 0
        if hour is None:
            return None
        try:
            when = now.replace(year=year, month=month, day=int(match.group(2)), hour=hour, second=0, microsecond=0)
            when = when.replace(minute=int(match.group(5) or 0))
        except ValueError:
            return None
        if match.group(3) is None and when < now - PAST_TOLERANCE:
            when = when.replace(year=year + 1)  # "Jan 2nd" seen on Dec 30th means next year
        return when + (WHOLE_MINUTE if match.group(4) else timedelta(days=1))
    return None


def _from_time(text: str, now: datetime) -> datetime | None:
    match = _TIME_RE.search(text)
    if match is None or (match.group(2) is None and match.group(3) is None):
        return None  # a bare number ("try again at 3") is too vague to act on
    hour = _hour(match.group(1), match.group(3))
    minute = int(match.group(2) or 0)
    if hour is None or minute > 59:
        return None
    when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    when = when + timedelta(days=1) if when < now - PAST_TOLERANCE else when
    return when + WHOLE_MINUTE


def _hour(raw: str, meridiem: str | None) -> int | None:
    hour = int(raw)
    if meridiem is None:
        return hour if hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    is_pm = meridiem.lower().startswith("p")
    return (hour % 12) + (12 if is_pm else 0)
