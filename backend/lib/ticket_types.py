"""Ticket types and concessions (优惠票): who may have which type, and what it costs under a venue's rule.

Types: `adult`, `child`, `senior`, `student`, `disabled`, `military`. Each venue gives each type a rule:
`full` (the slot's or seat's price), `half`, `free`, `fixed` (a set price, never above the full one) or
`none` (not sold there). Age comes from a mainland resident ID's birth date (digits 7-14): a visitor of
60 or more is a `senior` and one under 18 a `child` without asking, and asking for either against the
birth date is refused (400 `ticket_type_not_eligible`). What no number can prove is checked at the gate:
a student card, a disability certificate, a service member's ID, and the age of a visitor whose document
carries no birth date (`check_at_gate` names what staff must see).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from backend.lib.problems import InvalidInput

TicketType = Literal["adult", "child", "senior", "student", "disabled", "military"]
TICKET_TYPES: tuple[TicketType, ...] = ("adult", "child", "senior", "student", "disabled", "military")
RuleKind = Literal["full", "half", "free", "fixed", "none"]
RULE_KINDS: tuple[RuleKind, ...] = ("full", "half", "free", "fixed", "none")

SENIOR_AGE = 60
CHILD_UNDER = 18

# what staff must see at the gate for a type no ID number can prove
CARDS: dict[TicketType, str] = {
    "student": "student_card",
    "disabled": "disability_certificate",
    "military": "military_id",
}


@dataclass(frozen=True)
class PriceRule:
    kind: RuleKind
    fixed_fen: int = 0

    def price(self, full_fen: int) -> int:
        """The price of one ticket of this type where the full price is `full_fen`."""
        if self.kind == "free" or full_fen <= 0:
            return 0
        if self.kind == "half":
            return (full_fen + 1) // 2  # half, rounded up to the fen
        if self.kind == "fixed":
            return min(self.fixed_fen, full_fen)
        return full_fen

    def describe(self) -> str:
        return f"fixed:{self.fixed_fen}" if self.kind == "fixed" else self.kind


# the usual concessions of the city's venues, where a venue states none of its own
DEFAULT_RULES: dict[TicketType, PriceRule] = {
    "adult": PriceRule("full"),
    "child": PriceRule("half"),
    "senior": PriceRule("half"),
    "student": PriceRule("half"),
    "disabled": PriceRule("free"),
    "military": PriceRule("free"),
}


def parse_rule(text: str) -> PriceRule:
    """`full`, `half`, `free`, `none` or `fixed:<fen>` (as written in content/ticket_rules.toml)."""
    if text.startswith("fixed:"):
        fen = int(text.removeprefix("fixed:"))
        if fen < 0:
            raise ValueError("a fixed price is not negative")
        return PriceRule("fixed", fen)
    if text not in RULE_KINDS or text == "fixed":
        raise ValueError(f"unknown price rule {text!r}")
    return PriceRule(text)


def birth_date(id_type: str, number: str) -> date | None:
    """The birth date a document number carries: only the resident ID has one."""
    if id_type != "resident_id" or len(number) != 18:
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class Ticket:
    """One visitor's ticket: its type, price, the rule that made it, and what the gate must see."""

    ticket_type: TicketType
    price_fen: int
    rule: str
    check_at_gate: str | None  # None, or the card / document staff must see
    automatic: bool  # the type was chosen from the birth date, not asked for


def ticket_for(
    requested: TicketType | None,
    id_type: str,
    number: str,
    on: date,
    full_fen: int,
    rules: Mapping[TicketType, PriceRule],
    *,
    position: int = 0,
) -> Ticket:
    """The ticket of one visitor (the `position`th, for error messages) visiting `on`."""
    born = birth_date(id_type, number)
    age = age_on(born, on) if born else None
    field = f"visitors[{position}].ticket_type"
    automatic = requested is None
    kind: TicketType
    if requested is None:
        kind = "adult"
        if age is not None and age >= SENIOR_AGE and _offered(rules, "senior"):
            kind = "senior"
        elif age is not None and age < CHILD_UNDER and _offered(rules, "child"):
            kind = "child"
    else:
        kind = requested
    rule = rules.get(kind, DEFAULT_RULES[kind])
    if rule.kind == "none":
        raise InvalidInput("ticket_type_not_offered", f"visitor {position + 1}: no {kind} tickets here", field=field)
    if kind == "senior" and age is not None and age < SENIOR_AGE:
        raise InvalidInput(
            "ticket_type_not_eligible",
            f"visitor {position + 1}: senior tickets are for visitors aged {SENIOR_AGE} or more; the ID says {age}",
            field=field,
        )
    if kind == "child" and age is not None and age >= CHILD_UNDER:
        raise InvalidInput(
            "ticket_type_not_eligible",
            f"visitor {position + 1}: child tickets are for visitors under {CHILD_UNDER}; the ID says {age}",
            field=field,
        )
    check = CARDS.get(kind)
    if check is None and kind in ("senior", "child") and age is None:
        check = "proof_of_age"  # a passport or permit number carries no birth date
    return Ticket(kind, rule.price(full_fen), rule.describe(), check, automatic)


def _offered(rules: Mapping[TicketType, PriceRule], kind: TicketType) -> bool:
    return rules.get(kind, DEFAULT_RULES[kind]).kind != "none"
