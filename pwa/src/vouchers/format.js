// Pure helpers of the vouchers screens (no DOM, no dictionary): tested in Node.

/** {days, hms} until `targetMs` ("03:04:05"), never negative. */
export function countdownParts(targetMs, nowMs) {
  let s = Math.max(0, Math.floor((targetMs - nowMs) / 1000))
  const days = Math.floor(s / 86400)
  s -= days * 86400
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':')
  return { days, hms }
}

/** Yuan typed at a till ("58", "58.5", "58.50") as fen; NaN when it is not an amount. */
export function yuanToFen(text) {
  const s = String(text || '').trim()
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(s)) return NaN
  const [whole, frac = ''] = s.split('.')
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'))
}
