"""The forecast's model: a seasonal profile (venue × weekday × hour), adjusted for the holiday calendar and
scaled to the recent level, with a low-high band from its own recent errors. Pure functions over one
venue's history (`History`: local day -> local hour -> people inside), so the backtest (`backtest`,
`make bench`) and the service run the same code.

Candidates (`MODELS`), compared by the backtest against two baselines measured on the same hours (the
same hour a week before; the same hour's average over the profile's weeks); the one the API uses is
`CHOSEN` (docs/forecast.md has the numbers):
- `profile`: the mean of each weekday's hour over the last `weeks` ordinary weeks;
- `profile_holidays`: holiday days take the weekend's hours times the factor their kind of day showed in
  the history (a Golden Week's peak days, its first, its tail, its last, the Spring Festival's eve, a
  short holiday's days), working weekends take a working day's, school-holiday weekdays their factor;
- `profile_holidays_level`: and everything scaled by how the last two weeks ran against the profile.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from statistics import median

from backend.forecast.calendar import DayKind, day_kind

History = dict[date, dict[int, float]]

BAND_SHARE = 0.8  # the band's nominal coverage: from the 10th to the 90th percentile of recent errors
BAND_WEEKS = 4  # how many past weeks' out-of-sample errors make the band
HOLIDAY_BAND = 1.6  # a holiday's band is wider: fewer days to learn its factor from
LEVEL_DAYS = 14
LEVEL_BOUNDS = (0.6, 1.6)
REFERENCE_DAYS = 28  # a holiday's factor is against the ordinary weekends within this many days of it


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    holidays: bool
    level: bool
    weeks: int = 8


MODELS: dict[str, ModelSpec] = {
    "profile": ModelSpec("profile", holidays=False, level=False),
    "profile_holidays": ModelSpec("profile_holidays", holidays=True, level=False),
    "profile_holidays_level": ModelSpec("profile_holidays_level", holidays=True, level=True),
}
CHOSEN = "profile_holidays_level"
MODEL_LABEL = "seasonal profile (venue × weekday × hour), holiday-adjusted, recent-level scaled"


@dataclass(slots=True)
class Prepared:
    """A venue's history with what every fit needs of it, worked out once."""

    history: History
    days: list[date]  # sorted
    totals: dict[date, float]
    kinds: dict[date, DayKind]
    fits: dict[tuple[date, str], Fitted] = field(default_factory=dict)  # fit_point's answers, kept

    @classmethod
    def of(cls, history: History) -> Prepared:
        days = sorted(history)
        return cls(
            history=history,
            days=days,
            totals={d: sum(history[d].values()) for d in days},
            kinds={d: day_kind(d) for d in days},
        )

    def around(self, d: date, radius: int, as_of: date) -> list[date]:
        """The days of the history within `radius` days of `d`, before `as_of`."""
        lo = bisect_left(self.days, d - timedelta(days=radius))
        hi = bisect_left(self.days, min(d + timedelta(days=radius + 1), as_of))
        return self.days[lo:hi]

    def between(self, first: date, as_of: date) -> list[date]:
        return self.days[bisect_left(self.days, first) : bisect_left(self.days, as_of)]


@dataclass(slots=True)
class Fitted:
    spec: ModelSpec
    as_of: date
    profile: dict[tuple[int, int], float]  # (weekday, hour) -> people
    fallback: dict[tuple[str, int], float]  # ("work"|"weekend", hour) -> people
    holiday: dict[str, float] = field(default_factory=dict)  # bucket -> factor against a weekend day
    school: float = 1.0
    level: float = 1.0
    band: tuple[float, float] = (0.0, 0.0)  # log-error quantiles (low, high)


def _ordinary(kind: DayKind) -> bool:
    return kind.type in ("workday", "weekend")


def _class(weekday: int) -> str:
    return "weekend" if weekday >= 5 else "work"


def _school_factor(p: Prepared, as_of: date) -> float:
    """How much fuller a school-holiday working day is than ordinary working days around it."""
    ratios = []
    for d in p.between(date.min, as_of):
        k = p.kinds[d]
        if not (k.school_holiday and k.type == "workday"):
            continue
        near = [
            p.totals[x]
            for x in p.around(d, 35, as_of)
            if p.kinds[x].type == "workday" and not p.kinds[x].school_holiday
        ]
        if len(near) >= 3 and p.totals[d] > 0:
            ratios.append(p.totals[d] / (sum(near) / len(near)))
    return median(ratios) if len(ratios) >= 5 else 1.0


def _profile(
    p: Prepared, as_of: date, weeks: int, school: float
) -> tuple[dict[tuple[int, int], float], dict[tuple[str, int], float]]:
    sums: dict[tuple[int, int], list[float]] = {}
    by_class: dict[tuple[str, int], list[float]] = {}
    for d in p.between(as_of - timedelta(weeks=weeks), as_of):
        k = p.kinds[d]
        if not _ordinary(k):
            continue
        scale = school if (k.school_holiday and k.type == "workday") else 1.0
        for h, v in p.history[d].items():
            sums.setdefault((d.weekday(), h), []).append(v / scale)
            by_class.setdefault((_class(d.weekday()), h), []).append(v / scale)
    profile = {key: sum(vs) / len(vs) for key, vs in sums.items()}
    fallback = {key: sum(vs) / len(vs) for key, vs in by_class.items()}
    return profile, fallback


def _base(f: Fitted, weekday: int, hour: int, cls: str | None = None) -> float:
    if cls is None:
        value = f.profile.get((weekday, hour))
        if value is not None:
            return value
        cls = _class(weekday)
    value = f.fallback.get((cls, hour))
    if value is None:
        value = f.fallback.get(("work" if cls == "weekend" else "weekend", hour), 0.0)
    return value


def _weekend_hour(f: Fitted, hour: int) -> float:
    values = [v for v in (f.profile.get((5, hour)), f.profile.get((6, hour))) if v is not None]
    return sum(values) / len(values) if values else _base(f, 5, hour, "weekend")


def _working_hour(f: Fitted, hour: int) -> float:
    values = [v for wd in range(1, 5) if (v := f.profile.get((wd, hour))) is not None]
    return sum(values) / len(values) if values else _base(f, 2, hour, "work")


def _holiday_factors(p: Prepared, as_of: date) -> dict[str, float]:
    """For each kind of holiday day: its total against the ordinary weekend days around it (median)."""
    ratios: dict[str, list[float]] = {}
    for d in p.between(date.min, as_of):
        bucket = p.kinds[d].holiday_bucket
        if bucket is None:
            continue
        near = [p.totals[x] for x in p.around(d, REFERENCE_DAYS, as_of) if p.kinds[x].type == "weekend"]
        if len(near) < 2:
            continue
        ref = sum(near) / len(near)
        if ref > 0:
            ratios.setdefault(bucket, []).append(p.totals[d] / ref)
    factors = {bucket: median(rs) for bucket, rs in ratios.items()}
    # a kind of day the history has not shown yet borrows its nearest kin's factor
    kin = {
        "golden_peak": ("golden_first", "golden_tail", "holiday"),
        "golden_first": ("golden_peak", "holiday"),
        "golden_tail": ("golden_peak", "holiday"),
        "golden_last": ("holiday_last", "golden_tail"),
        "holiday": ("golden_first", "golden_tail"),
        "holiday_last": ("golden_last", "holiday"),
        "eve": (),
    }
    for bucket, alternatives in kin.items():
        if bucket not in factors:
            for alt in alternatives:
                if alt in ratios:
                    factors[bucket] = median(ratios[alt])
                    break
    return factors


def _point(f: Fitted, day: date, hour: int) -> float:
    kind = day_kind(day)
    if f.spec.holidays:
        bucket = kind.holiday_bucket
        if bucket is not None:
            value = _weekend_hour(f, hour) * f.holiday.get(bucket, 1.0)
        elif kind.type == "makeup":
            value = _working_hour(f, hour) * (f.school if kind.school_holiday else 1.0)
        else:
            value = _base(f, day.weekday(), hour)
            if kind.school_holiday and kind.type == "workday":
                value *= f.school
    else:
        value = _base(f, day.weekday(), hour)
    return max(0.0, value * f.level)


def fit_point(p: Prepared, as_of: date, spec: ModelSpec) -> Fitted:
    """The model fitted on the days before `as_of` (no band); kept in `p` for the next asker."""
    kept = p.fits.get((as_of, spec.name))
    if kept is not None:
        return kept
    school = _school_factor(p, as_of) if spec.holidays else 1.0
    profile, fallback = _profile(p, as_of, spec.weeks, school)
    f = Fitted(spec=spec, as_of=as_of, profile=profile, fallback=fallback, school=school)
    if spec.holidays:
        f.holiday = _holiday_factors(p, as_of)
    if spec.level:
        actual = predicted = 0.0
        for d in p.between(as_of - timedelta(days=LEVEL_DAYS), as_of):
            if not _ordinary(p.kinds[d]):
                continue
            for h, v in p.history[d].items():
                actual += v
                predicted += _point(f, d, h)
        if predicted > 0 and actual > 0:
            f.level = min(LEVEL_BOUNDS[1], max(LEVEL_BOUNDS[0], actual / predicted))
    p.fits[(as_of, spec.name)] = f
    return f


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def fit(p: Prepared, as_of: date, spec: ModelSpec | None = None) -> Fitted:
    """The model fitted before `as_of`, with its band: the errors it made, out of sample, over each of the
    `BAND_WEEKS` weeks before `as_of` (fitted at each week's start), in log terms."""
    spec = spec or MODELS[CHOSEN]
    point = fit_point(p, as_of, spec)
    errors: list[float] = []
    for k in range(1, BAND_WEEKS + 1):
        origin = as_of - timedelta(weeks=k)
        past = fit_point(p, origin, spec)
        for i in range(7):
            d = origin + timedelta(days=i)
            for h, actual in p.history.get(d, {}).items():
                errors.append(math.log((actual + 1) / (_point(past, d, h) + 1)))
    tail = (1 - BAND_SHARE) / 2
    band = (_quantile(errors, tail), _quantile(errors, 1 - tail)) if errors else (-0.5, 0.5)
    return replace(point, band=band)


def predict(f: Fitted, day: date, hour: int) -> tuple[float, float, float]:
    """(expected, low, high) people inside during local hour `hour` of `day`."""
    expected = _point(f, day, hour)
    lo, hi = f.band
    if day_kind(day).holiday_bucket is not None:
        lo, hi = lo * HOLIDAY_BAND, hi * HOLIDAY_BAND
    low = max(0.0, (expected + 1) * math.exp(lo) - 1)
    high = max(expected, (expected + 1) * math.exp(hi) - 1)
    return expected, min(low, expected), high


# ---------------------------------------------------------------- baselines


def same_hour_last_week(p: Prepared, day: date, hour: int) -> float:
    for weeks in (1, 2):
        value = p.history.get(day - timedelta(weeks=weeks), {}).get(hour)
        if value is not None:
            return value
    return 0.0


def hour_average(p: Prepared, as_of: date, hour: int, weeks: int = 8) -> float:
    values = [p.history[d][hour] for d in p.between(as_of - timedelta(weeks=weeks), as_of) if hour in p.history[d]]
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- backtest


@dataclass
class Score:
    absolute_error: float = 0.0
    actual: float = 0.0
    covered: int = 0
    hours: int = 0

    @property
    def wape(self) -> float:
        return self.absolute_error / self.actual if self.actual else 0.0

    @property
    def coverage(self) -> float:
        return self.covered / self.hours if self.hours else 0.0


@dataclass
class BacktestResult:
    first: date
    last: date
    scores: dict[str, Score]  # model or baseline name -> score
    chosen: str


BASELINES = ("same_hour_last_week", "same_hour_average")


def backtest(
    histories: dict[str, Prepared], end: date, weeks: int = 8, models: list[str] | None = None
) -> BacktestResult:
    """Hold out the `weeks` weeks before `end`: from each week's first day, forecast its 7 days with what
    was known before it, and score every model and both baselines on the same hours (WAPE: the sum of
    absolute errors over the sum of the actual counts). The band's coverage is measured for every model."""
    names = models or list(MODELS)
    scores = {name: Score() for name in [*names, *BASELINES]}
    first = end - timedelta(weeks=weeks)
    for p in histories.values():
        for w in range(weeks):
            origin = first + timedelta(weeks=w)
            fitted = {name: fit(p, origin, MODELS[name]) for name in names}
            for i in range(7):
                d = origin + timedelta(days=i)
                for h, actual in p.history.get(d, {}).items():
                    guesses = {
                        "same_hour_last_week": same_hour_last_week(p, d, h),
                        "same_hour_average": hour_average(p, origin, h),
                    }
                    for name, f in fitted.items():
                        expected, low, high = predict(f, d, h)
                        s = scores[name]
                        s.covered += low <= actual <= high
                        guesses[name] = expected
                    for name, guess in guesses.items():
                        s = scores[name]
                        s.absolute_error += abs(actual - guess)
                        s.actual += actual
                        s.hours += 1
    best = min(names, key=lambda n: scores[n].wape)
    return BacktestResult(first=first, last=end - timedelta(days=1), scores=scores, chosen=best)
