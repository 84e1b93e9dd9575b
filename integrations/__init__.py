"""Adapters to systems we don't own (Stripe, the supervision platform, charger feeds, ...)."""
