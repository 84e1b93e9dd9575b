from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.reservations.tables import Reservation


class Payment(Table, tablename="payments"):
    """One checkout attempt for a reservation; maps the provider's ids (session, payment intent) to ours."""

    reservation = ForeignKey(references=Reservation, index=True)
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
    payment = ForeignKey(references=Payment, index=True)
    provider_refund_id = Varchar(length=120, unique=True)
    amount_fen = Integer()
    reason = Varchar(length=40)
    status = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookEvent(Table, tablename="webhook_events"):
    """Every provider event we accepted, once: a replayed event id changes nothing."""

    provider = Varchar(length=20)
    event_id = Varchar(length=120, unique=True)
    type = Varchar(length=80)
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
