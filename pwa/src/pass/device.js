// The tourist's side of the pass: this phone's own P-256 key, certified by the server, signs a
// fresh code every few seconds, with or without a network (docs/pass-code.md, device code).
// The private key is made non-extractable by WebCrypto and kept in IndexedDB as a CryptoKey: it
// never leaves the phone, so a copied certificate or a screenshot is no use elsewhere.
import { apiFetch } from '../api'
import { Store, idbAvailable } from './idb.js'
import { ascii, b64uDecode, b64uEncode, concat, hex, readU32, u32 } from './bytes.js'
import { base45Encode } from './base45.js'

export const PASS_DB = 'cx-pass'
const kv = new Store(PASS_DB, 'kv', ['kv'])
const CTX_DEVICE = ascii('CX-DEV-1')
const RECERTIFY_MS = 12 * 3600 * 1000 // ask for a new certificate this long before the old one expires
const CERT_TTL_MS = 48 * 3600 * 1000 // the server's DEVICE_CERT_TTL, to learn its clock

/** Whether this browser can keep a device key: WebCrypto (secure contexts only) and IndexedDB. */
export function deviceKeysSupported() {
  return (
    typeof window !== 'undefined' &&
    window.isSecureContext !== false &&
    typeof crypto !== 'undefined' &&
    !!crypto.subtle &&
    idbAvailable()
  )
}

// ---- the pass itself (GET /pass), kept for offline use

export async function cachedPass() {
  try {
    return (await kv.get('pass')) || null
  } catch {
    return null
  }
}

export async function fetchPass() {
  const data = await apiFetch('/pass')
  const saved = { data, savedAt: Date.now() }
  if (idbAvailable()) await kv.set('pass', saved).catch(() => {})
  return saved
}

// ---- the device key and its certificate

async function newKey() {
  // extractable = false: the private key can sign, never be read; the public key is always exportable
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  return { privateKey: pair.privateKey, publicKey: b64uEncode(raw) }
}

export async function loadDevice() {
  try {
    return (await kv.get('device')) || null
  } catch {
    return null
  }
}

export function needsCertificate(device, passId, now = Date.now()) {
  return !device?.certificate || device.passId !== passId || device.expiresAt - now < RECERTIFY_MS
}

/**
 * The device record for `passId`, certified (again) when there is none, it belongs to another
 * pass, or its certificate expires within 12 h. Needs the network for that; otherwise returns what
 * is stored (which may be null).
 */
export async function ensureDevice(passId, { online = navigator.onLine } = {}) {
  let device = await loadDevice()
  if (device && device.passId !== passId) device = null
  if (!needsCertificate(device, passId) || !online) return device
  const key = device?.privateKey ? { privateKey: device.privateKey, publicKey: device.publicKey } : await newKey()
  const asked = Date.now()
  const cert = await apiFetch('/pass/device', { method: 'POST', body: { public_key: key.publicKey } })
  const answered = Date.now()
  const certificate = b64uDecode(cert.certificate)
  if (certificate.length !== 115 || hex(certificate.subarray(2, 10)) !== passId) throw new Error('bad certificate')
  const expiresAt = readU32(certificate, 14) * 1000 // what the gate checks
  // The server's clock, from when it issued the certificate (expires − 48 h): codes carry the time
  // they were shown, and a phone whose clock is off by more than the gate's tolerance would be refused.
  const serverNow = Date.parse(cert.expires_at) - CERT_TTL_MS
  const offset = Math.round((serverNow - (asked + answered) / 2) / 1000)
  device = {
    passId,
    privateKey: key.privateKey,
    publicKey: key.publicKey,
    certificate,
    serial: cert.serial,
    kid: cert.kid,
    expiresAt,
    windowS: cert.window_s,
    clockOffsetS: Math.abs(offset) > 5 ? offset : 0,
  }
  await kv.set('device', device)
  return device
}

/** Unix seconds now, on the server's clock as far as this phone knows it. */
export function deviceNow(device, now = Date.now()) {
  return Math.floor(now / 1000) + (device?.clockOffsetS || 0)
}

/** A fresh device code: certificate(115) ‖ shown_at(4) ‖ ECDSA(“CX-DEV-1” ‖ certificate ‖ shown_at), base45. */
export async function deviceCode(device, shownAt = deviceNow(device)) {
  const when = u32(shownAt)
  const message = concat(CTX_DEVICE, device.certificate, when)
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.privateKey, message))
  return { code: base45Encode(concat(device.certificate, when, signature)), shownAt }
}

/** The fallback without a device key: a code the server signs (type 1), fetched every refresh. */
export async function serverCode() {
  return apiFetch('/pass/code')
}
