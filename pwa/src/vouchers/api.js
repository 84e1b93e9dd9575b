// The vouchers room's calls (常州礼遇: shared/API.md "Vouchers and cards"), and the small helpers its
// screens share: the release countdown and the "满 50 减 20" label.
import { apiFetch } from '../api'
import { t } from '../i18n'
import { formatMoney } from '../format'
import { countdownParts, yuanToFen } from './format'

export const vouchersApi = {
  campaigns: (query, opts) => apiFetch('/campaigns', { query, ...opts }),
  // the app's claim ticket (a release's rush needs one): fetched when the page opens, kept fresh
  claimTicket: (id) => apiFetch(`/campaigns/${id}/claim-ticket`, { method: 'POST' }),
  // Idempotency-Key: one per tap, sent again when the same tap is retried (a lost answer)
  claim: (id, key, ticket) =>
    apiFetch(`/campaigns/${id}/claim`, {
      method: 'POST',
      headers: ticket ? { 'Idempotency-Key': key, 'X-Claim-Ticket': ticket } : { 'Idempotency-Key': key },
    }),
  apply: (id) => apiFetch(`/campaigns/${id}/apply`, { method: 'POST' }),
  application: (id) => apiFetch(`/campaigns/${id}/application`),
  coupons: (query) => apiFetch('/me/coupons', { query }),
  identity: () => apiFetch('/me/identity'),
  setIdentity: (body) => apiFetch('/me/identity', { method: 'PUT', body }),
  redeem: (body) => apiFetch('/redemptions', { method: 'POST', body }),
  reverse: (id) => apiFetch(`/redemptions/${encodeURIComponent(id)}/reverse`, { method: 'POST' }),
}

/** "2 天 03:04:05" / "03:04:05" until `targetMs`. */
export function countdown(targetMs, nowMs) {
  const { days, hms } = countdownParts(targetMs, nowMs)
  return days ? t('vouchers.countdownDays', { d: days, hms }) : hms
}

/** What a voucher is worth, in words: "满 ¥50.00 减 ¥20.00", "¥20.00 无门槛", or a card's "惠民卡". */
export function valueLabel(c) {
  if (c.kind === 'card') return t('vouchers.card')
  if (c.min_spend_fen > 0) return t('vouchers.minSpend', { min: formatMoney(c.min_spend_fen), off: formatMoney(c.face_value_fen) })
  return t('vouchers.noMinimum', { off: formatMoney(c.face_value_fen) })
}

export { yuanToFen }
