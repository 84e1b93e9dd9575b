"""A booking's contact phone (issue 21): the number the venue calls about the visit (a closed slot, a late
group, something left behind).

- `POST /reservations {…, contact_phone?}`: the number given, or the account's own (phone sign-in or
  `PUT /me/phone`) when none is; AES-GCM encrypted on the reservation, its mask beside it. The holder sees
  the mask on the booking.
- `GET /venues/{slug}/bookings?date=` (staff of the venue): the day's bookings as the desk needs them: time,
  party, status, the holder's masked name and the masked contact phone; nothing else.
- `POST /venues/{slug}/bookings/{id}/contact` (staff of the venue): the number in full, for the call about to
  be made; a write, so the audit log records who asked for whose number and when.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK

from backend.accounts.phone import phone_of
from backend.lib.auth import AuthUser, require_roles
from backend.lib.clock import CITY_TZ, clock
from backend.lib.personal_data import mask_phone, vault
from backend.lib.problems import Forbidden, NotFound
from backend.reservations.tables import Reservation, Visitor

CONTEXT = "reservation.contact_phone"


@dataclass(frozen=True, slots=True)
class Contact:
    sealed: str
    masked: str


def contact_of(phone: str) -> Contact:
    number = phone.strip()
    digits = "".join(c for c in number if c.isdigit())
    if number.startswith("+86") and len(digits) == 13:
        digits = digits[2:]  # the mask shows the national number
    return Contact(sealed=vault().encrypt(number, CONTEXT), masked=mask_phone(digits))


async def contact_for(user_id: int, given: str | None) -> Contact | None:
    """The booking's contact: the number given, else the account's own, else none."""
    if given:
        return contact_of(given)
    own = await phone_of(user_id)
    return contact_of(own) if own else None


class DeskBooking(msgspec.Struct):
    id: str
    status: str
    starts_at: datetime
    party_size: int
    holder_name_masked: str
    contact_phone_masked: str | None


class DeskBookings(msgspec.Struct):
    venue_slug: str
    date: date
    items: list[DeskBooking]


class ContactOut(msgspec.Struct):
    id: str
    contact_phone: str | None  # in full; None when the booking has no contact phone


def _check_staff(user: AuthUser, venue_slug: str) -> None:
    if not user.may_staff(venue_slug):
        raise Forbidden("forbidden_venue", "not staff of this venue")


async def desk_bookings(user: AuthUser, venue_slug: str, day: date) -> DeskBookings:
    _check_staff(user, venue_slug)
    rows = (
        await Reservation.select(
            Reservation.id,
            Reservation.public_id,
            Reservation.status,
            Reservation.party_size,
            Reservation.contact_phone_masked,
            Reservation.slot.starts_at,
        )
        .where(
            (Reservation.venue_slug == venue_slug)
            & (Reservation.visit_date == day)
            & Reservation.status.is_in(["confirmed", "pending_payment", "waitlisted"])
        )
        .order_by(Reservation.slot.starts_at)
        .order_by(Reservation.id)
    )
    first_names: dict[int, str] = {}
    if rows:
        for v in await Visitor.select(Visitor.reservation, Visitor.name_masked).where(
            Visitor.reservation.is_in([r["id"] for r in rows]) & (Visitor.position == 0)
        ):
            first_names[v["reservation"]] = v["name_masked"]
    return DeskBookings(
        venue_slug=venue_slug,
        date=day,
        items=[
            DeskBooking(
                id=str(r["public_id"]),
                status=r["status"],
                starts_at=r["slot.starts_at"].astimezone(CITY_TZ),
                party_size=r["party_size"],
                holder_name_masked=first_names.get(r["id"], ""),
                contact_phone_masked=r["contact_phone_masked"],
            )
            for r in rows
        ],
    )


async def reveal_contact(user: AuthUser, venue_slug: str, reservation_id: str) -> ContactOut:
    _check_staff(user, venue_slug)
    try:
        key = uuid.UUID(reservation_id)
    except ValueError:
        raise NotFound("reservation_not_found", "no such reservation") from None
    row: dict[str, Any] | None = (
        await Reservation.select(Reservation.public_id, Reservation.contact_phone_enc)
        .where((Reservation.public_id == key) & (Reservation.venue_slug == venue_slug))
        .first()
    )
    if row is None:
        raise NotFound("reservation_not_found", "no such reservation at this venue")
    sealed = row["contact_phone_enc"]
    return ContactOut(id=str(row["public_id"]), contact_phone=vault().decrypt(sealed, CONTEXT) if sealed else None)


class DeskController(Controller):
    """The venue desk's view of its bookings (staff of the venue)."""

    path = "/venues/{slug:str}/bookings"
    tags = ["timed entry"]
    guards = [require_roles("staff")]

    @get("/")
    async def list_bookings(
        self,
        request: Request[AuthUser, Token, State],
        slug: str,
        day: Annotated[date | None, Parameter(query="date", description="YYYY-MM-DD (default: today)")] = None,
    ) -> DeskBookings:
        """The day's bookings at this venue as the desk needs them: time, party, status, the holder's masked
        name and the masked contact phone."""
        return await desk_bookings(request.user, slug, day or clock.city_today())

    @post("/{reservation_id:str}/contact", status_code=HTTP_200_OK)
    async def contact(self, request: Request[AuthUser, Token, State], slug: str, reservation_id: str) -> ContactOut:
        """A booking's contact phone in full, for the call about to be made (recorded in the audit log)."""
        return await reveal_contact(request.user, slug, reservation_id)
