"""The lottery's draw: pure, deterministic, and checkable by anyone (`changxiang verify-draw`).

ALGORITHM (version "cx-draw-1"), over public data only:

1. `applicants` is the list of the applicants' pseudonyms (lowercase hex), without duplicates, sorted
   in ascending byte order.
2. `applicants_sha256` = SHA-256 of the UTF-8 bytes of the pseudonyms joined with "\\n" (no trailing
   newline), hex.
3. `seed` is 32 random bytes (hex), drawn when the campaign was created; its SHA-256 (`seed_sha256`, of
   the 32 bytes) was public from the campaign's release, before any application.
4. Each applicant's key = SHA-256( seed bytes ‖ applicants_sha256 bytes (32, from hex) ‖ pseudonym as
   ASCII ), hex.
5. The applicants are ordered by (key, pseudonym) ascending; the first `winners_count` win, in that
   order, where winners_count = min(len(applicants), quota // per_person).

Changing, adding or removing one applicant changes `applicants_sha256` and so every key: the operator,
who knew the seed, could not have placed a friend in the list after the fact without changing the hash
everyone can recompute from the published list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

ALGORITHM = "cx-draw-1"
ALGORITHM_TEXT = (
    "cx-draw-1: applicants = sorted unique pseudonyms; applicants_sha256 = sha256('\\n'.join(applicants)); "
    "key(p) = sha256(seed_bytes || bytes.fromhex(applicants_sha256) || p.encode('ascii')); winners = the first "
    "min(len(applicants), quota // per_person) applicants ordered by (key(p), p). seed_sha256 = sha256(seed_bytes)."
)


@dataclass(frozen=True)
class DrawResult:
    applicants: list[str]
    applicants_sha256: str
    winners: list[str]


def applicants_digest(applicants: list[str]) -> str:
    return hashlib.sha256("\n".join(applicants).encode("utf-8")).hexdigest()


def rank_key(seed: bytes, applicants_sha256: str, pseudonym: str) -> str:
    return hashlib.sha256(seed + bytes.fromhex(applicants_sha256) + pseudonym.encode("ascii")).hexdigest()


def draw(seed_hex: str, pseudonyms: list[str], winners_count: int) -> DrawResult:
    applicants = sorted(set(pseudonyms))
    digest = applicants_digest(applicants)
    seed = bytes.fromhex(seed_hex)
    ranked = sorted(applicants, key=lambda p: (rank_key(seed, digest, p), p))
    return DrawResult(applicants=applicants, applicants_sha256=digest, winners=ranked[: max(0, winners_count)])


def verify(document: dict[str, object]) -> list[str]:
    """The problems found in a published draw document (GET /campaigns/{id}/draw); empty when it holds."""
    problems = []
    seed, commitment = document.get("seed"), document.get("seed_sha256")
    applicants, winners = document.get("applicants"), document.get("winners")
    count = document.get("winners_count")
    if not isinstance(seed, str) or not isinstance(applicants, list) or not isinstance(winners, list):
        return ["the draw has not taken place yet (no seed, applicants or winners)"]
    if not isinstance(count, int):
        return ["winners_count is missing"]
    if hashlib.sha256(bytes.fromhex(seed)).hexdigest() != commitment:
        problems.append("the seed does not hash to the published seed_sha256")
    if applicants != sorted(set(str(a) for a in applicants)):
        problems.append("the applicants are not sorted and unique")
    again = draw(seed, [str(a) for a in applicants], count)
    if again.applicants_sha256 != document.get("applicants_sha256"):
        problems.append("applicants_sha256 does not match the applicants list")
    if again.winners != winners:
        problems.append("the winners are not the ones the seed and the applicants give")
    return problems


def verify_published(source: str) -> tuple[bool, str]:
    """`changxiang verify-draw SOURCE`: check the draw document at a URL (GET /campaigns/{id}/draw) or in
    a file; (holds, what to print)."""
    import json
    from pathlib import Path

    if source.startswith(("http://", "https://")):
        import httpx

        document = httpx.get(source, timeout=30).raise_for_status().json()
    else:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    problems = verify(document)
    if problems:
        return False, "\n".join(f"FAIL {p}" for p in problems)
    return True, (
        f"draw verified: seed matches seed_sha256 {str(document['seed_sha256'])[:16]}…, "
        f"{len(document['applicants'])} applicants (sha256 {str(document['applicants_sha256'])[:16]}…), "
        f"{len(document['winners'])} winners reproduced"
    )
