"""Payment providers behind one small interface: Stripe Checkout now; a mainland acquirer (UnionPay,
WeChat Pay or Alipay direct) can be added as another `PaymentProvider` without touching bookings."""
