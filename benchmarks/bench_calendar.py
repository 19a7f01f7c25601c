"""Business-time due dates: supportkit's BusinessCalendar against ``businesstimedelta``.

Same schedule for both: Monday to Friday 09:00-18:00 in Europe/Berlin with the
public holidays of Germany/Bavaria (from the ``holidays`` package). For each
size (8, 200, 2,000 business hours) and a set of start instants spread over a
year, both libraries compute the due date; the results must be identical
instants. Prints microseconds per call and the speedup.

Run: ``.venv/bin/python benchmarks/bench_calendar.py`` (needs ``businesstimedelta``,
benchmark-only, and ``holidays``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import businesstimedelta
import holidays
import pytz

from supportkit.policies._calendar import office_hours

TZ = "Europe/Berlin"
SIZES = (8, 200, 2_000)
STARTS = [
    datetime(2024, 1, 2, 7, 30, tzinfo=UTC) + timedelta(days=d, hours=h, minutes=m)
    for d, h, m in ((k * 11 % 365, k * 5 % 24, k * 17 % 60) for k in range(40))
]


def ours() -> Callable[[datetime, int], datetime]:
    # A fresh calendar per run: the timing includes filling its per-year caches.
    cal = office_hours(TZ, country="DE", subdivision="BY")
    return lambda start, hours: cal.add_business_time(start, timedelta(hours=hours))


def theirs() -> Callable[[datetime, int], datetime]:
    tz = pytz.timezone(TZ)
    workday = businesstimedelta.WorkDayRule(
        start_time=dtime(9), end_time=dtime(18), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    years = range(2023, 2028)
    holiday_rule = businesstimedelta.HolidayRule(
        holidays.country_holidays("DE", subdiv="BY", years=years), tz=tz
    )
    rules = businesstimedelta.Rules([workday, holiday_rule])
    return lambda start, hours: start + businesstimedelta.BusinessTimeDelta(rules, hours=hours)


def timed(fn: Callable[[datetime, int], datetime], hours: int, min_time: float) -> float:
    """Microseconds per call, best of 3 rounds over all start instants."""
    best = float("inf")
    for _ in range(3):
        calls, began = 0, time.perf_counter()
        while True:
            for start in STARTS:
                fn(start, hours)
            calls += len(STARTS)
            elapsed = time.perf_counter() - began
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls * 1e6)
    return best


def main() -> int:
    quick = "--quick" in sys.argv
    ok = True
    rows = []
    for hours in SIZES:
        a, b = ours(), theirs()
        for start in STARTS:
            x, y = a(start, hours), b(start, hours)
            if x != y:
                ok = False
                print(f"MISMATCH {hours}h from {start}: ours {x} theirs {y}")
        us_ours = timed(ours(), hours, 0.05 if quick else 0.3)
        us_theirs = timed(theirs(), hours, 0.05 if quick else 0.5)
        rows.append((hours, us_ours, us_theirs))
    print(f"due date, Mon-Fri 09:00-18:00 {TZ}, DE-BY holidays, {len(STARTS)} start instants")
    print(
        f"{'business hours':>15} {'supportkit µs':>14} {'businesstimedelta µs':>21} {'speedup':>8}"
    )
    for hours, us_ours, us_theirs in rows:
        print(f"{hours:>15,} {us_ours:>14.1f} {us_theirs:>21.1f} {us_theirs / us_ours:>7.0f}x")
    ratio = rows[2][1] / rows[1][1]
    print(f"identical results: {'yes' if ok else 'NO'}")
    print(f"supportkit cost at 2,000 h / at 200 h: {ratio:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
