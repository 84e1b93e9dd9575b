from piccolo.columns import BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_log"):
    """One action of a staff member, marketer, governance officer, agency or admin: append-only and
    hash-chained. `hash` = SHA-256 over the canonical row (every column but `id` and `hash`) and
    `prev_hash`, so editing or deleting any row breaks the chain at that row (docs/security.md)."""

    seq = BigInt(unique=True)  # 1, 2, 3 … without gaps: the chain's order
    at = Timestamptz(index=True)
    actor_id = Integer(null=True, default=None, index=True)
    actor_roles = Varchar(length=120, default="")  # sorted, comma-separated
    action = Varchar(length=200)  # "PATCH /api/v1/venues/{slug}/slots/{slot_id:int}" or a named event
    object = Text(default="{}")  # JSON: the path parameters (which object), or the event's subject
    client = Varchar(length=80, default="")  # the caller's address
    status = Integer(default=0)  # the HTTP status answered (the result)
    request_id = Varchar(length=64, default="")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)


class AuditAnchor(Table, tablename="audit_anchor"):
    """Where the chain starts after a prune: the last pruned row's seq and hash. Each prune also appends
    an `audit.prune` entry to the chain itself, so moving the anchor is on the record."""

    seq = BigInt()
    hash = Varchar(length=64)
    pruned_before = Timestamptz()
    pruned_at = Timestamptz()
