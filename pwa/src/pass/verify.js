// Offline verification of a pass code at the gate, the same steps as backend/passes/codes.py
// `verify_code`, and the same decision as backend/passes/services.py `ScanService._decide`, made
// from the entitlements `GET /api/v1/scans/keys` handed out (kept in IndexedDB).
import { ascii, b64uDecode, concat, hex, readU32 } from './bytes.js'
import { base45Decode } from './base45.js'

export const SERVER_CODE = 1
export const DEVICE_CODE = 2
const SERVER_HEAD = 14 // type, kid, pass_id(8), issued_at(4)
const CERT = 51 // type, kid, pass_id(8), serial(4), expires(4), device key (33, compressed)
const SIG = 64
const CTX_SERVER = ascii('CX-PASS-1')
const CTX_CERT = ascii('CX-CERT-1')
const CTX_DEVICE = ascii('CX-DEV-1')
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' }
const P256 = { name: 'ECDSA', namedCurve: 'P-256' }

// ---- P-256 point decompression (WebCrypto imports only uncompressed points everywhere)
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

function modPow(base, exp, mod) {
  let result = 1n
  base %= mod
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod
    base = (base * base) % mod
    exp >>= 1n
  }
  return result
}

function toBig(bytes) {
  return BigInt('0x' + (hex(bytes) || '0'))
}

function toBytes32(n) {
  const h = n.toString(16).padStart(64, '0')
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** 33-byte compressed point → 65-byte uncompressed point; throws if it is not on the curve. */
export function decompressP256(point) {
  if (point.length !== 33 || (point[0] !== 2 && point[0] !== 3)) throw new Error('not a compressed point')
  const x = toBig(point.subarray(1))
  if (x >= P) throw new Error('x out of range')
  // y² = x³ − 3x + b (mod p); p ≡ 3 (mod 4), so a square root is rhs^((p+1)/4)
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P
  let y = modPow(rhs, (P + 1n) / 4n, P)
  if ((y * y) % P !== rhs) throw new Error('not on the curve')
  if (Number(y & 1n) !== (point[0] & 1)) y = P - y
  return concat(Uint8Array.of(4), toBytes32(x), toBytes32(y))
}

function importP256(raw65) {
  return crypto.subtle.importKey('raw', raw65, P256, false, ['verify'])
}

/** Server public keys by kid, imported once: from `GET /scans/keys` → keys[].public_key. */
export async function importServerKeys(keys) {
  const out = new Map()
  for (const k of keys || []) {
    if (k.alg !== 'ES256') continue
    try {
      out.set(Number(k.kid), await importP256(b64uDecode(k.public_key)))
    } catch {
      /* a key we cannot read verifies nothing */
    }
  }
  return out
}

export class Rejected extends Error {
  constructor(result) {
    super(result)
    this.result = result
  }
}

/**
 * Check signatures and freshness of a code, as `verify_code` does.
 * @param {string} code the QR text
 * @param {Map<number, CryptoKey>} serverKeys by kid
 * @param {number} now Unix seconds
 * @param {{windowS: number, skewS: number}} limits
 * @returns {Promise<{passId: string, shownAt: number, deviceSerial: number|null}>} or throws Rejected
 */
export async function verifyCode(code, serverKeys, now, { windowS = 30, skewS = 30 } = {}) {
  let raw
  try {
    raw = base45Decode(String(code).replace(/^\s+|\s+$/g, ''))
  } catch {
    throw new Rejected('invalid')
  }
  if (!raw.length) throw new Rejected('invalid')
  let passId, shown, serial
  if (raw[0] === SERVER_CODE && raw.length === SERVER_HEAD + SIG) {
    const key = serverKeys.get(raw[1])
    const head = raw.subarray(0, SERVER_HEAD)
    if (!key || !(await crypto.subtle.verify(ECDSA, key, raw.subarray(SERVER_HEAD), concat(CTX_SERVER, head)))) {
      throw new Rejected('invalid')
    }
    passId = hex(raw.subarray(2, 10))
    shown = readU32(raw, 10)
    serial = null
  } else if (raw[0] === DEVICE_CODE && raw.length === CERT + SIG + 4 + SIG) {
    const certEnd = CERT + SIG
    const cert = raw.subarray(0, CERT)
    const key = serverKeys.get(raw[1])
    if (!key || !(await crypto.subtle.verify(ECDSA, key, raw.subarray(CERT, certEnd), concat(CTX_CERT, cert)))) {
      throw new Rejected('invalid')
    }
    passId = hex(raw.subarray(2, 10))
    serial = readU32(raw, 10)
    const expires = readU32(raw, 14)
    shown = readU32(raw, certEnd)
    let device
    try {
      device = await importP256(decompressP256(raw.subarray(18, CERT)))
    } catch {
      throw new Rejected('invalid')
    }
    const message = concat(CTX_DEVICE, raw.subarray(0, certEnd + 4))
    if (!(await crypto.subtle.verify(ECDSA, device, raw.subarray(certEnd + 4), message))) {
      throw new Rejected('invalid')
    }
    if (now > expires) throw new Rejected('stale_code')
  } else {
    throw new Rejected('invalid')
  }
  const age = now - shown
  if (age > windowS + skewS || age < -skewS) throw new Rejected('stale_code')
  return { passId, shownAt: shown, deviceSerial: serial }
}

// ---- the decision, from cached entitlements

/** The calendar day in Changzhou (UTC+8 all year, no daylight saving) of a time in ms. */
export function cityDate(ms) {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10)
}

/**
 * @param {object} verified what verifyCode returned
 * @param {object} o
 * @param {string} o.venueSlug
 * @param {'in'|'out'} o.direction
 * @param {number} o.at ms
 * @param {object} o.keys the cached GET /scans/keys answer
 * @param {Record<string, {entries: number, inside: boolean, at: number}>} o.local what this gate did offline, by reservation_id
 * @returns {{result: string, entitlement: object|null}}
 */
export function decideOffline(verified, { venueSlug, direction, at, keys, local = {} }) {
  const revoked = keys.revoked || []
  if (revoked.some((r) => r.pass_id && r.pass_id === verified.passId)) return { result: 'revoked', entitlement: null }
  if (
    verified.deviceSerial !== null &&
    revoked.some((r) => r.device_serial !== undefined && Number(r.device_serial) === verified.deviceSerial)
  ) {
    return { result: 'revoked', entitlement: null }
  }
  const day = cityDate(at)
  const generatedAt = Date.parse(keys.generated_at) || 0
  const state = (e) => {
    const mine = local[e.reservation_id]
    if (!mine) return { entries: e.entries, inside: e.inside }
    // what this gate did after the list was made wins; entries only ever grow
    return {
      entries: Math.max(e.entries, mine.entries),
      inside: mine.at > generatedAt ? mine.inside : e.inside,
    }
  }
  const here = (keys.entitlements || [])
    .filter((e) => e.pass_id === verified.passId && e.venue_slug === venueSlug)
    .filter((e) => cityDate(Date.parse(e.valid_until)) === day)
    .sort((a, b) => Date.parse(a.valid_from) - Date.parse(b.valid_from))
  // offline we only know today's bookings at this gate's venues: a holder with none here is
  // refused as the server refuses one with bookings elsewhere only
  if (!here.length) return { result: 'wrong_venue', entitlement: null }
  const confirmed = here.filter((e) => e.status === 'confirmed')
  if (direction === 'out') {
    const inside = confirmed.filter((e) => state(e).inside)
    return inside.length
      ? { result: 'ok', entitlement: inside[0] }
      : { result: 'already_redeemed', entitlement: confirmed[0] || here[0] }
  }
  const nowOk = confirmed.filter((e) => Date.parse(e.valid_from) <= at && at <= Date.parse(e.valid_until))
  if (nowOk.length) {
    const fresh = nowOk.filter((e) => !state(e).inside)
    const e = fresh[0] || nowOk[0]
    const s = state(e)
    // after an exit the holder may come back in only where the venue allows re-entry
    if (s.inside || (s.entries > 0 && !e.allow_reentry)) return { result: 'already_redeemed', entitlement: e }
    return { result: 'ok', entitlement: e }
  }
  if (confirmed.length) return { result: 'invalid_time', entitlement: confirmed[0] }
  const unpaid = here.find((e) => e.status === 'pending_payment')
  if (unpaid) return { result: 'unpaid', entitlement: unpaid }
  return { result: 'canceled', entitlement: here[0] }
}
