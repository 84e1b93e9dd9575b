// Mainland mobile numbers as the server takes them (backend/accounts/phone.py): spaces, hyphens and a +86 or
// 0086 prefix are fine; anything else is not a number we can text.
export function normalisePhone(raw) {
  let digits = String(raw || '').replace(/[\s\-().]/g, '')
  for (const prefix of ['+86', '0086', '86']) {
    if (digits.startsWith(prefix) && digits.length === prefix.length + 11) {
      digits = digits.slice(prefix.length)
      break
    }
  }
  return /^1[3-9]\d{9}$/.test(digits) ? `+86${digits}` : ''
}
