from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table


class Payment(Table, tablename="payments"):
    """One checkout attempt for a reservation; maps the provider's ids (session, payment intent) to ours."""

    # The booking paid for: a foreign key in the database (reservations.id), named through Piccolo's app
    # registry rather than imported, so payments (a core room) does not import reservations above it.
    reservation: ForeignKey[Table] = ForeignKey(
        references=LazyTableReference("Reservation", app_name="reservations"), index=True
    )
    provider = Varchar(length=20, default="stripe")
    session_id = Varchar(length=120, unique=True)
    payment_intent = Varchar(length=120, null=True, default=None, unique=True)
    amount_fen = Integer()
    currency = Varchar(length=3, default="CNY")
    status = Varchar(length=20, default="open")  # open | paid | expired | refunded | partially_refunded
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    paid_at = Timestamptz(null=True, default=None)


class Refund(Table, tablename="refunds"):
    """Money owed back for a payment, once per (payment, reason): written `pending` in the transaction that
    ends the booking, then asked of the provider until it confirms (`provider_refund_id` set). A unique
    index on (payment, reason) (migration 2026-12-03) keeps one row per reason; rows still owed are
    claimed by a lease (`leased_until`), retried with back-off (`next_attempt_at`) and always with the
    same `Idempotency-Key` (`refund-<public_id>`, globally unique)."""

    payment = ForeignKey(references=Payment, index=True)
    provider_refund_id = Varchar(length=120, unique=True, null=True, default=None)  # None while owed
    amount_fen = Integer()
    reason = Varchar(length=40)
    status = Varchar(length=20)  # pending (owed, or the provider's own pending) | succeeded | failed | canceled
    created_at = Timestamptz(default=TimestamptzNow())
    public_id = UUID(null=True, default=None, index=True)  # the idempotency key's; None on rows made before it
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    leased_until = Timestamptz(null=True, default=None)
    last_error = Varchar(length=300, null=True, default=None)


class WebhookEvent(Table, tablename="webhook_events"):
    """Every provider event we accepted, once: a replayed event id changes nothing."""

    provider = Varchar(length=20)
    event_id = Varchar(length=120, unique=True)
    type = Varchar(length=80)
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
