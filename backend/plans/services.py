"""Day plans: compose a day (candidates, then the search off the event loop), keep it under an unguessable
id, book all of its bookable items at once or none, and give it as a calendar (docs/plans.md)."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from backend.lib import offload
from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import write_transaction
from backend.lib.geo import CHANGZHOU_BBOX, Point
from backend.lib.i18n import LANGS, Lang
from backend.lib.problems import Conflict, DomainError, InvalidInput, NotFound
from backend.plans import editing, wording
from backend.plans.candidates import CandidateBuilder, Info, Pool, Profile
from backend.plans.comfort import comfort_outlook
from backend.plans.schemas import (
    Party,
    PlanBookingOut,
    PlanBookRequest,
    PlanItem,
    PlanOut,
    PlanRequest,
    PlanWarning,
    Travel,
)
from backend.plans.search import Candidate, Outcome, Placed, Problem, compose
from backend.plans.tables import Plan
from backend.plans.travel import TravelModel
from backend.reservations.schemas import BookingRequest, ReservationOut
from backend.reservations.services import reservations
from backend.settings import get_settings

log = logging.getLogger("changxiang.plans")

DAYS_AHEAD = 30  # a plan is for today … today + DAYS_AHEAD
MIN_WINDOW_MIN = 60
DAY_CAP_MIN = {"seniors": 6 * 60, "children": 7 * 60}  # shorter days with seniors or children
LUNCH = (11 * 60 + 45, 14 * 60)  # lunch is due from 11:45 and comes before any item that ends after 14:00
MAX_CANDIDATES = 48
START_DECIMALS = 3  # the start point is kept to about 100 m


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _at(day: date, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CITY_TZ) + timedelta(minutes=minute)


def _key_hash(plan_id: str) -> str:
    return hashlib.sha256(plan_id.encode()).hexdigest()


# A warning before it is written: its code and its values; place names as (zh, en) pairs, interests as codes.
Note = tuple[str, dict[str, object]]


def _warnings(notes: list[Note], lang: Lang) -> list[PlanWarning]:
    out = []
    for code, values in notes:
        written: dict[str, object] = {}
        for key, value in values.items():
            if key == "names" and isinstance(value, list):
                names = [t[0] if lang == "zh" else t[1] for t in value]
                written[key] = ("、" if lang == "zh" else ", ").join(dict.fromkeys(names))
            elif key == "interests" and isinstance(value, list):
                written["names"] = wording.interest_names(value, lang)
            else:
                written[key] = value
        out.append(PlanWarning(code=code, message=wording.warning_text(code, lang, **written)))
    return out


class PlanService:
    # ---------------------------------------------------------------- composing

    async def create(self, data: PlanRequest, lang: Lang) -> PlanOut:
        now = clock.now()
        today = now.astimezone(CITY_TZ).date()
        if not today <= data.date <= today + timedelta(days=DAYS_AHEAD):
            raise InvalidInput(
                "date_out_of_range", f"plans are made for {today} … {today + timedelta(days=DAYS_AHEAD)}", field="date"
            )
        lat_lo, lng_lo, lat_hi, lng_hi = CHANGZHOU_BBOX
        if not (lat_lo <= data.start.lat <= lat_hi and lng_lo <= data.start.lng <= lng_hi):
            raise InvalidInput("start_outside_city", "the start point must be in Changzhou", field="start")
        party = data.party or Party()
        if party.size < 1:
            raise InvalidInput("invalid_party", "the party needs at least one person", field="party")
        t0, t1 = _minutes(data.start_time), _minutes(data.end_time)
        if t1 - t0 < MIN_WINDOW_MIN:
            detail = f"end_time must be at least {MIN_WINDOW_MIN} minutes after start_time"
            raise InvalidInput("window_too_short", detail, field="end_time")
        notes: list[Note] = []
        if data.date == today:
            local = now.astimezone(CITY_TZ)
            # any part of a minute rounds up (microseconds too): a plan never starts a moment in the past
            now_min = (
                math.ceil((local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60) / 5) * 5
            )
            if now_min > t0:
                t0 = now_min
                notes.append(("started_now", {"time": f"{min(t0, 1439) // 60:02d}:{min(t0, 1439) % 60:02d}"}))
        cap = DAY_CAP_MIN["seniors"] if party.seniors else DAY_CAP_MIN["children"] if party.children else None
        if cap is not None and t1 - t0 > cap:
            t1 = t0 + cap
            notes.append(("day_shortened", {"hours": cap // 60}))
        if party.size > get_settings().max_party_size:
            notes.append(("party_too_large_to_book", {"max": get_settings().max_party_size}))
        profile = Profile(
            day=data.date,
            party_size=party.size,
            children=party.children,
            seniors=party.seniors,
            interests=frozenset(data.interests),
            step_free=data.step_free,
        )
        start = Point(data.start.lat, data.start.lng)
        items: dict[Lang, list[PlanItem]] = {"zh": [], "en": []}
        if t1 - t0 >= 30:
            pool = await CandidateBuilder(profile, await comfort_outlook(data.date, now), now).build()
            problem, chosen = self._problem(start, t0, t1, pool, party, frozenset(data.exclude))
            outcome = await offload.cpu(compose, problem)
            log.info(
                "plan composed",
                extra={"candidates": len(chosen), "expansions": outcome.expansions, "bounded": outcome.exhausted},
            )
            infos = [pool.info[i] for i in chosen]
            for written in LANGS:
                items[written] = self._items(data.date, outcome, problem, infos, party, start, written)
            matched = any(infos[s.candidate].interest for s in outcome.items if s.candidate is not None)
            self._pool_warnings(notes, pool, profile, matched)
        if not any(i.kind != "break" for i in items["zh"]):
            items = {"zh": [], "en": []}
            notes.append(("nothing_fits", {}))
        plans = {
            written: self._plan_out(data, party, written, items[written], _warnings(notes, written), now)
            for written in LANGS
        }
        plan_id = await self._store(party.size, plans)
        return msgspec.structs.replace(plans[lang], id=plan_id)

    def _problem(
        self, start: Point, t0: int, t1: int, pool: Pool, party: Party, exclude: frozenset[str] = frozenset()
    ) -> tuple[Problem, list[int]]:
        """The search's problem: the candidates that could fit at all, the best MAX_CANDIDATES of them (none
        the request excludes)."""
        travel = TravelModel.for_party(party.children, party.seniors)
        ranked: list[tuple[float, int]] = []
        for i, c in enumerate(pool.candidates):
            if f"{c.kind}:{c.slug}" in exclude:
                continue
            leg = travel.leg(start, c.entry)
            if 2 * leg.minutes + c.min_dwell > t1 - t0:
                continue
            ranked.append((c.value - 0.03 * leg.minutes, i))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        chosen = [i for _, i in ranked[:MAX_CANDIDATES]]
        gentle = bool(party.children or party.seniors)
        problem = Problem(
            start=start,
            t0=t0,
            t1=t1,
            candidates=tuple(pool.candidates[i] for i in chosen),
            travel=travel,
            break_every=90 if gentle else 180,
            rest_len=20 if gentle else 15,
            lunch=LUNCH if t0 <= LUNCH[0] - 15 and t1 >= LUNCH[1] else None,
            lunch_len=60 if gentle else 45,
        )
        return problem, chosen

    def _items(
        self,
        day: date,
        outcome: Outcome,
        problem: Problem,
        infos: list[Info],
        party: Party,
        start: Point,
        lang: Lang,
    ) -> list[PlanItem]:
        out: list[PlanItem] = []
        where, last_title = start, None
        for step in outcome.items:
            if step.candidate is None:
                kind = step.break_kind or "rest"
                out.append(
                    PlanItem(
                        kind="break",
                        title=wording.break_title(kind, lang),
                        starts_at=_at(day, step.start),
                        ends_at=_at(day, step.end),
                        travel=Travel(mode="walk", minutes=0, distance_m=0),
                        why=wording.why_break(step, last_title, bool(party.children or party.seniors), lang),
                        location=where,
                    )
                )
                continue
            c: Candidate = problem.candidates[step.candidate]
            info = infos[step.candidate]
            out.append(self._item(day, c, info, step, lang))
            where, last_title = c.exit, info.title(lang)
        return out

    def _item(self, day: date, c: Candidate, info: Info, step: Placed, lang: Lang) -> PlanItem:
        starts_at, ends_at = info.exact.get(step.start) or (_at(day, step.start), _at(day, step.end))
        return PlanItem(
            kind=c.kind,
            slug=c.slug,
            title=info.title(lang),
            starts_at=starts_at,
            ends_at=ends_at,
            travel=Travel(mode=step.leg.mode, minutes=step.leg.minutes, distance_m=step.leg.distance_m),
            why=wording.why_item(c, info, step, lang),
            location=c.entry,
            venue_slug=info.venue_slug if c.kind != "venue" else None,
            slot_id=step.slot_id,
            booking_required=info.booking_required,
            comfort_level=step.comfort,
            price_fen=info.price_fen,
        )

    def _pool_warnings(self, notes: list[Note], pool: Pool, profile: Profile, matched: bool) -> None:
        if profile.step_free and pool.not_step_free:
            notes.append(("step_free_excluded", {"count": pool.not_step_free}))
        if pool.closed_today:
            notes.append(("closed_today", {"names": pool.closed_today}))
        if pool.fully_booked:
            notes.append(("fully_booked", {"names": pool.fully_booked}))
        if pool.booking_not_open:
            notes.append(("booking_not_open", {"names": pool.booking_not_open}))
        if profile.interests and not matched:
            notes.append(("interests_unmatched", {"interests": sorted(profile.interests)}))

    # ---------------------------------------------------------------- keeping

    @staticmethod
    def _plan_out(
        data: PlanRequest, party: Party, lang: Lang, items: list[PlanItem], warnings: list[PlanWarning], now: datetime
    ) -> PlanOut:
        return PlanOut(
            id="",
            date=data.date,
            start=Point(round(data.start.lat, START_DECIMALS), round(data.start.lng, START_DECIMALS)),
            start_time=data.start_time,
            end_time=data.end_time,
            party=party,
            step_free=data.step_free,
            lang=lang,
            interests=list(dict.fromkeys(data.interests)),
            items=items,
            warnings=warnings,
            created_at=now.astimezone(CITY_TZ),
            booked=False,
            exclude=list(dict.fromkeys(data.exclude)),
        )

    async def _store(self, party_size: int, plans: dict[Lang, PlanOut]) -> str:
        """Keep the plan (written in both languages) under a new random id; answer the id."""
        plan_id = secrets.token_urlsafe(16)  # 128 bits
        await Plan.insert(
            Plan(
                key_hash=_key_hash(plan_id),
                day=plans["zh"].date,
                body=msgspec.json.encode(plans).decode(),
                party_size=party_size,
                created_at=plans["zh"].created_at,
            )
        )
        return plan_id

    async def drop(self, plan_id: str, index: int, lang: Lang) -> PlanOut:
        """The plan without one visit, kept as a new plan (editing.py); the original stays as it was."""
        row = await self._row(plan_id)
        written = self._written(row)
        now = clock.now().astimezone(CITY_TZ)
        edited = {k: msgspec.structs.replace(v, created_at=now) for k, v in editing.without(written, index).items()}
        new_id = await self._store(edited["zh"].party.size, edited)
        return msgspec.structs.replace(edited[lang], id=new_id, booked=False)

    async def _row(self, plan_id: str) -> dict[str, Any]:
        row = None
        if 16 <= len(plan_id) <= 64:
            row = await Plan.select().where(Plan.key_hash == _key_hash(plan_id)).first()
        if row is None:
            raise NotFound("plan_not_found", "no such plan")
        return row

    @staticmethod
    def _written(row: dict[str, Any]) -> dict[Lang, PlanOut]:
        """The stored plan in both languages (without its id)."""
        return msgspec.json.decode(row["body"], type=dict[Lang, PlanOut])

    @classmethod
    def _decoded(cls, row: dict[str, Any], plan_id: str, lang: Lang) -> PlanOut:
        return msgspec.structs.replace(cls._written(row)[lang], id=plan_id, booked=row["booked_at"] is not None)

    async def get(self, plan_id: str, lang: Lang) -> PlanOut:
        """The plan, in `lang` (every plan is written in Chinese and English when it is made)."""
        return self._decoded(await self._row(plan_id), plan_id, lang)

    # ---------------------------------------------------------------- booking all at once

    async def book(self, user: AuthUser, plan_id: str, data: PlanBookRequest) -> PlanBookingOut:
        """Book every item with a slot, in one write transaction: all of them, or (on the first refusal)
        none — the transaction rolls back every seat, visitor and booking taken before it."""
        row = await self._row(plan_id)
        if row["owner_id"] is not None and row["owner_id"] != user.id:
            raise NotFound("plan_not_found", "no such plan")  # someone else's plan is indistinguishable from none
        plan = self._decoded(row, plan_id, "en")
        todo = sorted(
            ((i, item) for i, item in enumerate(plan.items) if item.slot_id is not None),
            key=lambda pair: pair[1].slot_id or 0,  # slots locked in one order: two plans can't deadlock
        )
        if not todo:
            raise Conflict("nothing_to_book", "no item of this plan needs booking")
        if row["booked_at"] is not None:
            raise Conflict("plan_already_booked", "this plan has been booked")
        booked: dict[int, ReservationOut] = {}
        async with write_transaction():
            claimed = (
                await Plan.update({Plan.booked_at: clock.now(), Plan.owner_id: user.id})
                .where((Plan.id == row["id"]) & Plan.booked_at.is_null())
                .returning(Plan.id)
            )
            if not claimed:
                raise Conflict("plan_already_booked", "this plan has been booked")
            for index, item in todo:
                request = BookingRequest(slot_id=item.slot_id or 0, visitors=data.visitors)
                try:
                    result = await reservations.book(user, request)
                except InvalidInput:
                    raise  # the visitors themselves are wrong: the same for every item
                except DomainError as exc:
                    raise Conflict(
                        "plan_booking_failed",
                        f"item {index + 1} ({item.title}) could not be booked: {exc.detail}; nothing was booked",
                        item=index,
                        slug=item.slug,
                        reason=exc.code,
                    ) from None
                if not isinstance(result, ReservationOut):  # a replay: only with an Idempotency-Key, never here
                    raise RuntimeError("unexpected replay")
                booked[index] = result
            ordered = [booked[i] for i in sorted(booked)]
            await Plan.update({Plan.reservation_ids: msgspec.json.encode([r.id for r in ordered]).decode()}).where(
                Plan.id == row["id"]
            )
        log.info("plan booked", extra={"items": len(ordered), "user": user.id})
        return PlanBookingOut(plan_id=plan_id, reservations=ordered)


plans = PlanService()
