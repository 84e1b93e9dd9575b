// Checks of the identity documents accepted for real-name booking, the same rules as the server
// (backend/lib/id_documents.py), so that a mistake shows while the visitor types.
// Each check returns '' when the number is fine, or the i18n key of what is wrong.

export const ID_TYPES = ['resident_id', 'passport', 'hk_macau_permit', 'taiwan_permit']

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK_CHARS = '10X98765432'
// GB/T 2260 province-level codes (incl. 71 Taiwan, 81 Hong Kong, 82 Macao, 83 residence permits
// for Taiwan residents, 91 foreigners' permanent residence).
const PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62,
  63, 64, 65, 71, 81, 82, 83, 91,
])
const SHAPES = {
  passport: { re: /^[A-Z0-9]{5,17}$/, key: 'id.passport' },
  hk_macau_permit: { re: /^[HM](\d{8}|\d{10})$/, key: 'id.hkMacau' },
  taiwan_permit: { re: /^(\d{8}|\d{10})$/, key: 'id.taiwan' },
}

/** What the server compares: no spaces or hyphens, upper case. */
export function normaliseId(value) {
  return String(value || '')
    .replace(/[\s-]/g, '')
    .toUpperCase()
}

export function residentCheckChar(first17) {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK_CHARS[sum % 11]
}

export function checkResidentId(number, today = new Date()) {
  if (number.length !== 18) return 'id.length'
  if (!/^\d{17}[\dX]$/.test(number)) return 'id.chars'
  if (!PROVINCES.has(Number(number.slice(0, 2)))) return 'id.region'
  const y = Number(number.slice(6, 10))
  const m = Number(number.slice(10, 12))
  const d = Number(number.slice(12, 14))
  const born = new Date(Date.UTC(y, m - 1, d))
  const real = born.getUTCFullYear() === y && born.getUTCMonth() === m - 1 && born.getUTCDate() === d
  const todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate())
  if (!real || y < 1900 || born.getTime() > todayUtc) return 'id.birth'
  if (residentCheckChar(number) !== number[17]) return 'id.check'
  return ''
}

/** '' when `value` is a valid number of `idType`, otherwise the i18n key of the problem. */
export function checkIdNumber(idType, value) {
  const number = normaliseId(value)
  if (!number) return 'id.required'
  if (idType === 'resident_id') return checkResidentId(number)
  const shape = SHAPES[idType]
  return shape && shape.re.test(number) ? '' : shape?.key || 'id.required'
}

/** Whether a half-typed number is far enough along to judge it now (otherwise wait for blur). */
export function readyToJudge(idType, value) {
  const number = normaliseId(value)
  if (idType === 'resident_id') return number.length >= 18 || /[^\dX]/.test(number)
  if (idType === 'hk_macau_permit') return number.length >= 11 || (number.length > 0 && !/^[HM]/.test(number))
  if (idType === 'taiwan_permit') return number.length >= 10 || /\D/.test(number)
  return number.length >= 17 || /[^A-Z0-9]/.test(number)
}

/** 320***********123X: the first 3 and last 4 characters (shorter numbers: first and last). */
export function maskId(value) {
  const n = normaliseId(value)
  if (n.length > 8) return n.slice(0, 3) + '*'.repeat(n.length - 7) + n.slice(-4)
  if (n.length > 2) return n[0] + '*'.repeat(n.length - 2) + n.slice(-1)
  return '*'.repeat(n.length)
}

/** 张*明, 李*, J********n */
export function maskName(value) {
  const text = String(value || '').trim()
  // Latin names as initials, like the server (W. J.): readable, still not the name
  if (text && /^[\x20-\x7e]+$/.test(text)) return text.split(/\s+/).map((p) => `${p[0].toUpperCase()}.`).join(' ')
  const chars = Array.from(text)
  if (chars.length <= 1) return chars.join('')
  if (chars.length === 2) return `${chars[0]}*`
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1]
}
