// Payments of bookings: what a booking's optional `payment` object means for the visitor.
//   payment: {status: open|paid|expired|refunded|partially_refunded, amount_fen, currency, paid_at?,
//             refunds: [{id, amount_fen, status: pending|succeeded|failed, created_at}]}

export const POLL_EVERY_MS = 1500
export const POLL_FOR_MS = 30_000

/** Refunds added up by state: {succeeded, pending, failed} in fen, and whether there are any. */
export function refundTotals(payment) {
  const out = { succeeded: 0, pending: 0, failed: 0, any: false }
  for (const r of payment?.refunds || []) {
    if (!(r?.status in out)) continue
    out[r.status] += Number(r.amount_fen) || 0
    out.any = true
  }
  return out
}

/**
 * The payment badge of a booking card, or '' when it would add nothing: 'paid', 'refunded',
 * 'partially_refunded', 'refund_pending', 'refund_failed', or 'open' (unpaid: only where the booking's
 * own status does not already say "awaiting payment").
 */
export function paymentBadge(r) {
  const p = r?.payment
  if (!p) return ''
  const refunds = refundTotals(p)
  if (refunds.pending) return 'refund_pending'
  if (p.status === 'refunded' || p.status === 'partially_refunded') return p.status
  if (refunds.failed && !refunds.succeeded) return 'refund_failed'
  if (p.status === 'paid') return 'paid'
  if (p.status === 'open') return r.status === 'pending_payment' ? '' : 'open'
  return ''
}

/** Whether money was taken for this booking (so cancelling it refunds). */
export function isPaid(r) {
  return ['paid', 'partially_refunded'].includes(r?.payment?.status)
}
