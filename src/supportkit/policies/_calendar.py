"""Business calendars: when a channel or a team is open, and business-time arithmetic.

A :class:`BusinessCalendar` answers the questions an SLA asks: *when is a ticket
received now due if we promise 8 business hours?* and *how much business time
passed between these two instants?* Opening hours are wall-clock hours in an
IANA time zone; an instant is open when its local wall time falls inside a
shift of its local date. That definition stays exact across DST changes: on
the spring-forward day a 00:00-24:00 shift lasts 23 hours, on the fall-back day
25 hours.

Precedence for one local date, highest first:

1. ``special_hours`` for that date (may open a holiday or shorten a day; an
   empty tuple closes it);
2. ``closed_dates`` and public holidays (``holidays`` package) close it;
3. the weekly hours of its weekday.

Cost: ``add_business_time`` and ``business_time_between`` skip whole weeks
arithmetically (a week's business time is a constant, corrected by the few
dates that differ from it: holidays, host exceptions, DST changes), so their
cost grows with the years spanned, not the days or minutes.

Known limit: time zones whose clocks go back across local midnight (a local
date that starts twice) are not supported exactly; all zones with DST changes
at night (Europe/*, America/*, ...) are.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from supportkit.domain._errors import ConfigurationError, ValidationError

__all__ = ["BusinessCalendar", "Shift", "always_open", "office_hours"]

_US = 1_000_000
_DAY_US = 86_400 * _US
_HOUR_US = 3_600 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SHIFT_RE = re.compile(
    r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*-\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$"
)
_MAX_SCAN_DAYS = 366 * 20

Interval: TypeAlias = tuple[int, int]


@attrs.frozen(order=True)
class Shift:
    """One opening period of a day, in local wall-clock seconds since midnight.

    ``end`` may be 86400 (24:00). Build one from ``"09:00-13:00"`` with
    :meth:`parse`, or from two ``time`` values with :meth:`of`.
    """

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Shift:
        """Parse ``"HH:MM-HH:MM"`` (seconds optional, ``24:00`` allowed as the end)."""
        m = _SHIFT_RE.match(text)
        if m is None:
            raise ConfigurationError(
                f"cannot read opening hours {text!r}: write them as 'HH:MM-HH:MM', e.g. '09:00-18:00'"
            )
        h1, m1, s1, h2, m2, s2 = (int(g) if g else 0 for g in m.groups())
        start, end = h1 * 3600 + m1 * 60 + s1, h2 * 3600 + m2 * 60 + s2
        if m1 > 59 or m2 > 59 or s1 > 59 or s2 > 59 or start >= 86_400 or end > 86_400:
            raise ConfigurationError(
                f"opening hours {text!r} are not valid times of day (00:00 to 24:00)"
            )
        return cls.checked(start, end, text)

    @classmethod
    def of(cls, start: time, end: time) -> Shift:
        """Build from two ``time`` values; ``end=time(0)`` means midnight at the end of the day."""
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ConfigurationError(
                "opening hours are local wall-clock times: pass naive time() values and set "
                "the calendar's timezone instead"
            )
        s = start.hour * 3600 + start.minute * 60 + start.second
        e = end.hour * 3600 + end.minute * 60 + end.second
        if e == 0:
            e = 86_400
        return cls.checked(s, e, f"{start.isoformat()}-{end.isoformat()}")

    @classmethod
    def checked(cls, start: int, end: int, label: str = "") -> Shift:
        if not 0 <= start < end <= 86_400:
            raise ConfigurationError(
                f"shift {label or (start, end)!r} starts at or after its end: a shift must "
                "start before it ends on the same day (split overnight hours into two days)"
            )
        return cls(start, end)

    def __str__(self) -> str:
        def fmt(sec: int) -> str:
            h, rest = divmod(sec, 3600)
            m, s = divmod(rest, 60)
            return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")

        return f"{fmt(self.start)}-{fmt(self.end)}"


def _to_shift(spec: Any) -> Shift:
    if isinstance(spec, Shift):
        return spec
    if isinstance(spec, str):
        return Shift.parse(spec)
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(t, time) for t in spec):
        return Shift.of(spec[0], spec[1])
    raise ConfigurationError(
        f"cannot read opening hours {spec!r}: give 'HH:MM-HH:MM', a (time, time) pair or a Shift"
    )


def _day_shifts(specs: Any, where: str) -> tuple[Shift, ...]:
    if isinstance(specs, str | Shift) or (
        isinstance(specs, tuple) and len(specs) == 2 and all(isinstance(t, time) for t in specs)
    ):
        specs = [specs]
    shifts = sorted(_to_shift(s) for s in specs)
    for a, b in itertools.pairwise(shifts):
        if b.start < a.end:
            raise ConfigurationError(
                f"overlapping shifts on {where}: {a} and {b}; make them disjoint "
                "(e.g. '09:00-13:00' and '14:00-18:00') or merge them into one"
            )
    return tuple(shifts)


def _weekday_index(key: int | str) -> int:
    if isinstance(key, int) and 0 <= key <= 6:
        return key
    if isinstance(key, str) and key[:3].lower() in _WEEKDAYS:
        return _WEEKDAYS.index(key[:3].lower())
    raise ConfigurationError(
        f"unknown weekday {key!r}: use 0 (Monday) to 6 (Sunday) or a name like 'mon'"
    )


def _convert_weekly(value: Any) -> tuple[tuple[Shift, ...], ...]:
    if (
        isinstance(value, tuple)
        and len(value) == 7
        and all(isinstance(d, tuple) and all(isinstance(s, Shift) for s in d) for d in value)
    ):
        return tuple(_day_shifts(d, _WEEKDAYS[i]) for i, d in enumerate(value))
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "weekly hours must be a mapping weekday -> shifts, e.g. {'mon': '09:00-18:00'}"
        )
    days: list[tuple[Shift, ...]] = [() for _ in range(7)]
    for key, specs in value.items():
        i = _weekday_index(key)
        days[i] = _day_shifts(specs, _WEEKDAYS[i])
    return tuple(days)


def _weekly_converter(
    value: Mapping[int, Any] | Mapping[str, Any] | tuple[tuple[Shift, ...], ...],
) -> tuple[tuple[Shift, ...], ...]:
    return _convert_weekly(_expand_ranges(value))


def _closed_converter(value: Iterable[date]) -> frozenset[date]:
    return frozenset(value)


def _convert_special(value: Mapping[date, Any] | None) -> dict[date, tuple[Shift, ...]]:
    out: dict[date, tuple[Shift, ...]] = {}
    for day, specs in dict(value or {}).items():
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ConfigurationError(f"special hours are keyed by date, got {day!r}")
        out[day] = _day_shifts(specs, day.isoformat()) if specs else ()
    return out


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from exc


def _to_us(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            f"naive datetime {at.isoformat()} given; business-time arithmetic needs an aware "
            "datetime (e.g. datetime(..., tzinfo=UTC))"
        )
    return (at - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@attrs.frozen(eq=False)
class _YearInfo:
    """Dates of one year whose business time differs from their weekday's standard."""

    ordinals: list[int]
    prefix: list[int]  # prefix[i] = sum of deltas of ordinals[:i]
    deltas: dict[int, int]


@attrs.frozen
class BusinessCalendar:
    """Opening hours of a channel or team in one time zone, with holidays and exceptions.

    >>> cal = BusinessCalendar({"mon-fri": "09:00-18:00"}, timezone="Europe/Berlin")

    Weekly hours are a mapping weekday -> shifts: keys ``0``-``6`` or names
    (``"mon"``), and ``"mon-fri"``-style ranges; values a shift or a list of
    shifts (``["09:00-13:00", "14:00-18:00"]``). All inputs may be any aware
    datetime; results are UTC.
    """

    weekly: tuple[tuple[Shift, ...], ...] = attrs.field(converter=_weekly_converter)
    timezone: str = "UTC"
    country: str | None = None
    subdivision: str | None = None
    closed_dates: frozenset[date] = attrs.field(default=frozenset(), converter=_closed_converter)
    special_hours: Mapping[date, tuple[Shift, ...]] = attrs.field(
        factory=dict, converter=_convert_special, hash=False
    )
    _zone: ZoneInfo = attrs.field(init=False, repr=False, eq=False)
    _std: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)
    _std_prefix: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)
    _week_us: int = attrs.field(init=False, repr=False, eq=False)
    _years: dict[int, _YearInfo] = attrs.field(init=False, repr=False, eq=False, factory=dict)
    _days: dict[int, tuple[Interval, ...]] = attrs.field(
        init=False, repr=False, eq=False, factory=dict
    )
    _holiday_lib: Any = attrs.field(init=False, repr=False, eq=False, default=None)

    def __attrs_post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_zone", _zone(self.timezone))
        std = tuple(sum(s.end - s.start for s in day) * _US for day in self.weekly)
        if not any(std):
            raise ConfigurationError(
                "the calendar has no open hours at all: give at least one weekday a shift, "
                "e.g. {'mon-fri': '09:00-18:00'}, or use always_open()"
            )
        set_(self, "_std", std)
        prefix = [0]
        for i in range(14):
            prefix.append(prefix[-1] + std[i % 7])
        set_(self, "_std_prefix", tuple(prefix))
        set_(self, "_week_us", sum(std))
        for d in self.closed_dates:
            if not isinstance(d, date) or isinstance(d, datetime):
                raise ConfigurationError(f"closed_dates must hold dates, got {d!r}")
            if d in self.special_hours:
                raise ConfigurationError(
                    f"{d.isoformat()} is both a closed date and has special hours: keep one"
                )
        if self.subdivision is not None and self.country is None:
            raise ConfigurationError(
                f"subdivision {self.subdivision!r} given without a country: set country too"
            )
        if self.country is not None:
            set_(self, "_holiday_lib", _holiday_factory(self.country, self.subdivision))

    # -- public API -----------------------------------------------------------------

    @property
    def week(self) -> timedelta:
        """Business time of a regular week (no holidays, exceptions or DST change)."""
        return timedelta(microseconds=self._week_us)

    def is_open(self, at: datetime) -> bool:
        """Whether *at* falls inside opening hours."""
        t = _to_us(at)
        return any(a <= t < b for a, b in self._intervals(self._local_ordinal(t)))

    def next_open(self, at: datetime) -> datetime:
        """The first open instant at or after *at* (``at`` itself, in UTC, when open)."""
        t = _to_us(at)
        o = self._local_ordinal(t)
        for _ in range(_MAX_SCAN_DAYS):
            for a, b in self._intervals(o):
                if t < b:
                    return _from_us(max(a, t))
            o += 1
        raise ValidationError(self._never_open(at))

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open periods of one local date, as UTC ``(start, end)`` pairs."""
        return [(_from_us(a), _from_us(b)) for a, b in self._intervals(day.toordinal())]

    def business_time_on(self, day: date) -> timedelta:
        """Business time of one local date (holidays, exceptions and DST included)."""
        return timedelta(microseconds=self._day_total(day.toordinal()))

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant when *delta* of business time has passed since *start*.

        The result is the earliest such instant: a deadline that ends with a
        shift is that shift's end (18:00), not the next opening (09:00).
        ``delta`` of zero returns *start* (in UTC).

        >>> cal = office_hours(timezone="UTC")
        >>> cal.add_business_time(datetime(2024, 1, 5, 17, tzinfo=UTC), timedelta(hours=2))
        datetime.datetime(2024, 1, 8, 10, 0, tzinfo=datetime.timezone.utc)
        """
        t = _to_us(start)
        left = _delta_us(delta)
        if left == 0:
            return _from_us(t)
        try:
            return self._add(t, left, start)
        except (OverflowError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(
                f"{delta} of business time after {start.isoformat()} is beyond year 9999"
            ) from exc

    def _add(self, t: int, left: int, start: datetime) -> datetime:
        o = self._local_ordinal(t)
        for a, b in self._intervals(o):
            if b <= t:
                continue
            a = max(a, t)
            if left <= b - a:
                return _from_us(a + left)
            left -= b - a
        o += 1
        week = self._week_us
        # Skip whole weeks while comfortably far from the deadline.
        while left > 3 * week:
            weeks = left // week - 2
            skipped = self._between_ordinals(o, o + 7 * weeks)
            if skipped >= left:  # many special opening days: fall back to halving
                weeks //= 2
                if weeks == 0:
                    break
                skipped = self._between_ordinals(o, o + 7 * weeks)
                if skipped >= left:
                    break
            o += 7 * weeks
            left -= skipped
        for _ in range(_MAX_SCAN_DAYS):
            total = self._day_total(o)
            if total < left:
                left -= total
                o += 1
                continue
            for a, b in self._intervals(o):
                if left <= b - a:
                    return _from_us(a + left)
                left -= b - a
            raise AssertionError("day total and intervals disagree")  # pragma: no cover
        raise ValidationError(self._never_open(start))

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from *start* to *end*; negative when *end* is before *start*."""
        return timedelta(microseconds=self.business_us_between(_to_us(start), _to_us(end)))

    def business_us_between(self, t0: int, t1: int) -> int:
        """:meth:`business_time_between` of two instants given as integer microseconds since
        the Unix epoch (UTC), as stored by the SQL backends; the result in microseconds."""
        if t1 < t0:
            return -self.business_us_between(t1, t0)
        o0, o1 = self._local_ordinal(t0), self._local_ordinal(t1)
        if o0 == o1:
            return _overlap(self._intervals(o0), t0, t1)
        total = _overlap(self._intervals(o0), t0, t1)
        total += self._between_ordinals(o0 + 1, o1)
        total += _overlap(self._intervals(o1), t0, t1)
        return total

    # -- internals ------------------------------------------------------------------

    def _never_open(self, at: datetime) -> str:
        return (
            f"calendar ({self.timezone}) has no open hours within {_MAX_SCAN_DAYS} days "
            f"after {at.isoformat()}: check closed_dates and special_hours"
        )

    def _local_ordinal(self, t: int) -> int:
        # zone offsets are whole seconds, so the second *t* falls in has the same local date;
        # fromtimestamp converts in C (the slow path for instants the platform cannot)
        try:
            return datetime.fromtimestamp(t // _US, self._zone).toordinal()
        except (OverflowError, OSError, ValueError):
            return _from_us(t).astimezone(self._zone).toordinal()

    def _offset_us(self, t: int) -> int:
        off = _from_us(t).astimezone(self._zone).utcoffset()
        assert off is not None
        return off // _ONE_US

    def _shifts_on(self, o: int) -> tuple[Shift, ...]:
        d = date.fromordinal(o)
        special = self.special_hours.get(d)
        if special is not None:
            return special
        if d in self.closed_dates or self._is_holiday(d):
            return ()
        return self.weekly[(o - 1) % 7]

    def _is_holiday(self, d: date) -> bool:
        if self._holiday_lib is None:
            return False
        return d in self._holiday_lib(d.year)

    def _intervals(self, o: int) -> tuple[Interval, ...]:
        """Open UTC intervals (µs since epoch) of local date *o*, sorted and merged."""
        cached = self._days.get(o)
        if cached is not None:
            return cached
        shifts = self._shifts_on(o)
        base = (o - _EPOCH_ORDINAL) * _DAY_US
        lo, hi = base - 15 * _HOUR_US, base + 39 * _HOUR_US
        o1, o2 = self._offset_us(lo), self._offset_us(hi)
        raw: list[Interval] = []
        if o1 == o2:
            raw = [(base + s.start * _US - o1, base + s.end * _US - o1) for s in shifts]
        else:
            change = self._transition(lo, hi, o1)
            for s in shifts:
                a, b = base + s.start * _US - o1, min(base + s.end * _US - o1, change)
                if a < b:
                    raw.append((a, b))
                a, b = max(base + s.start * _US - o2, change), base + s.end * _US - o2
                if a < b:
                    raw.append((a, b))
            raw.sort()
        merged: list[Interval] = []
        for a, b in raw:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        result = tuple(merged)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[o] = result
        return result

    def _transition(self, lo: int, hi: int, before: int) -> int:
        """First µs in (lo, hi] whose UTC offset differs from *before* (whole seconds)."""
        lo_s, hi_s = lo // _US, hi // _US
        while hi_s - lo_s > 1:
            mid = (lo_s + hi_s) // 2
            if self._offset_us(mid * _US) == before:
                lo_s = mid
            else:
                hi_s = mid
        return hi_s * _US

    def _day_total(self, o: int) -> int:
        year = self._year(date.fromordinal(o).year)
        return self._std[(o - 1) % 7] + year.deltas.get(o, 0)

    def _year(self, y: int) -> _YearInfo:
        info = self._years.get(y)
        if info is not None:
            return info
        first, last = date(y, 1, 1).toordinal(), date(y, 12, 31).toordinal()
        candidates: set[int] = set()
        for d in self.closed_dates | set(self.special_hours):
            if d.year == y:
                candidates.add(d.toordinal())
        if self._holiday_lib is not None:
            candidates.update(d.toordinal() for d in self._holiday_lib(y))
        candidates.update(self._dst_dates(first, last))
        deltas: dict[int, int] = {}
        for o in sorted(candidates):
            total = sum(b - a for a, b in self._intervals(o))
            delta = total - self._std[(o - 1) % 7]
            if delta:
                deltas[o] = delta
        ordinals = sorted(deltas)
        prefix = [0]
        for o in ordinals:
            prefix.append(prefix[-1] + deltas[o])
        info = _YearInfo(ordinals, prefix, deltas)
        self._years[y] = info
        return info

    def _dst_dates(self, first: int, last: int) -> list[int]:
        """Local dates near a UTC offset change within [first, last]."""
        base = (first - _EPOCH_ORDINAL) * _DAY_US
        n = last - first + 1
        offsets = [self._offset_us(base + (k * 24 - 15) * _HOUR_US) for k in range(n + 3)]
        found: list[int] = []
        for k in range(n + 2):
            if offsets[k] != offsets[k + 1]:
                # A change between samples k and k+1 touches dates first+k-2 .. first+k+1.
                found.extend(o for o in range(first + k - 2, first + k + 2) if first <= o <= last)
        return found

    def _between_ordinals(self, o0: int, o1: int) -> int:
        """Business µs of the local dates [o0, o1)."""
        if o1 <= o0:
            return 0
        weeks, rest = divmod(o1 - o0, 7)
        start = (o0 - 1) % 7
        total = weeks * self._week_us + self._std_prefix[start + rest] - self._std_prefix[start]
        y0, y1 = date.fromordinal(o0).year, date.fromordinal(o1 - 1).year
        for y in range(y0, y1 + 1):
            info = self._year(y)
            i = bisect_left(info.ordinals, o0)
            j = bisect_left(info.ordinals, o1)
            total += info.prefix[j] - info.prefix[i]
        return total


def _overlap(intervals: Sequence[Interval], t0: int, t1: int) -> int:
    total = 0
    for a, b in intervals:
        lo, hi = max(a, t0), min(b, t1)
        if lo < hi:
            total += hi - lo
    return total


def _delta_us(delta: timedelta) -> int:
    if not isinstance(delta, timedelta):
        raise ValidationError(f"business time must be a timedelta, got {delta!r}")
    if delta < timedelta(0):
        raise ValidationError(f"negative business time {delta}: pass a duration of zero or more")
    return delta // _ONE_US


def _expand_ranges(weekly: Any) -> Any:
    """Turn ``{"mon-fri": x}`` into ``{"mon": x, ..., "fri": x}``."""
    if not isinstance(weekly, Mapping):
        return weekly
    out: dict[int | str, Any] = {}
    for key, value in weekly.items():
        if isinstance(key, str) and "-" in key:
            a, b = (_weekday_index(k.strip()) for k in key.split("-", 1))
            if b < a:
                raise ConfigurationError(
                    f"weekday range {key!r} runs backwards; write e.g. 'mon-fri'"
                )
            days = range(a, b + 1)
        else:
            days = range(_weekday_index(key), _weekday_index(key) + 1)
        for i in days:
            if i in out:
                raise ConfigurationError(
                    f"{_WEEKDAYS[i]} is given twice in the weekly hours: list each weekday once"
                )
            out[i] = value
    return out


def _holiday_factory(country: str, subdivision: str | None) -> Any:
    """A function year -> frozenset of public holiday dates, via the ``holidays`` package."""
    try:
        import holidays
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "public holidays need the 'holidays' package: pip install 'supportkit[calendar]'"
        ) from exc
    try:
        holidays.country_holidays(country, subdiv=subdivision, years=2000)
    except NotImplementedError as exc:
        raise ConfigurationError(
            f"the holidays package knows no country {country!r}: use an ISO 3166 code like 'DE'"
        ) from exc
    except Exception as exc:
        raise ConfigurationError(
            f"cannot load holidays for {country!r} subdivision {subdivision!r}: {exc}"
        ) from exc
    cache: dict[int, frozenset[date]] = {}

    def of_year(year: int) -> frozenset[date]:
        found = cache.get(year)
        if found is None:
            found = frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
            cache[year] = found
        return found

    return of_year


def always_open(timezone: str = "UTC") -> BusinessCalendar:
    """A 24/7 calendar (e.g. email read around the clock): business time is elapsed time.

    In a zone with DST, a day still lasts 23 or 25 hours: business time is real time.
    """
    return BusinessCalendar({"mon-sun": "00:00-24:00"}, timezone=timezone)


def office_hours(
    timezone: str = "UTC",
    *,
    hours: str | Sequence[str] = "09:00-18:00",
    weekdays: str = "mon-fri",
    country: str | None = None,
    subdivision: str | None = None,
    closed_dates: Iterable[date] = (),
    special_hours: Mapping[date, Any] | None = None,
) -> BusinessCalendar:
    """Office hours, Monday to Friday 09:00-18:00 unless told otherwise."""
    return BusinessCalendar(
        {weekdays: hours if isinstance(hours, str) else list(hours)},
        timezone=timezone,
        country=country,
        subdivision=subdivision,
        closed_dates=closed_dates,
        special_hours=special_hours,
    )
