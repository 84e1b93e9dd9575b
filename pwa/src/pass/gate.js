// The gate's offline memory (IndexedDB 'cx-scan'): the last GET /scans/keys (public keys,
// revocations, today's entitlements), what this gate admitted offline, the queue of scans to
// upload with POST /scans/batch when the network is back, and this gate phone's own key.
//
// The server trusts an uploaded scan only when this phone's key signed it (docs/pass-code.md,
// "Offline gates"): the key is a non-extractable WebCrypto P-256 key kept in IndexedDB, certified
// for the staff account at its venues (POST /scans/device); each keys fetch made with an empty queue
// names the device, which is its sync; scans are dated on the server's clock as this gate knows it.
import { apiFetch, ApiError } from '../api'
import { Store, idbAvailable } from './idb.js'
import { importServerKeys, verifyCode, decideOffline, Rejected, cityDate } from './verify.js'
import { ascii, b64uEncode, concat, u32 } from './bytes.js'

export const GATE_DB = 'cx-scan'
const STORES = ['kv', 'queue']
const kv = new Store(GATE_DB, 'kv', STORES)
const queue = new Store(GATE_DB, 'queue', STORES)
const BATCH = 200

let keyCache = { at: null, keys: new Map() }

export async function cachedKeys() {
  if (!idbAvailable()) return null
  return (await kv.get('keys').catch(() => null)) || null
}

/**
 * GET /scans/keys → stored; returns {data, fetchedAt, offsetMs}. With `device` (a gate device record)
 * the fetch is this device's sync; a device the server no longer knows (revoked, expired) loses its
 * certificate here and is certified again next time.
 */
export async function refreshKeys(device = null) {
  const asked = Date.now()
  const data = await apiFetch('/scans/keys', { query: device?.serial ? { device: device.serial } : undefined })
  const fetchedAt = Date.now()
  // the server's clock, from the moment it made the list: offline scans are dated on it
  const offsetMs = Math.round(Date.parse(data.generated_at) - (asked + fetchedAt) / 2)
  const saved = { data, fetchedAt, offsetMs: Math.abs(offsetMs) > 2000 ? offsetMs : 0 }
  if (idbAvailable()) {
    await kv.set('keys', saved)
    if (device?.serial && !data.device_synced_at) await kv.set('device', { ...device, serial: null })
  }
  return saved
}

/** Now in ms on the server's clock, as far as this gate knows it (from its last keys fetch). */
export function gateNow(saved, now = Date.now()) {
  return now + (saved?.offsetMs || 0)
}

// ---- this gate phone's own key (docs/pass-code.md, "Offline gates")

const CTX_SCAN = ascii('CX-SCAN-1')
const RECERTIFY_MS = 2 * 24 * 3600 * 1000 // renew a gate certificate this long before it expires
const utf8 = new TextEncoder()

export async function loadGateDevice() {
  if (!idbAvailable()) return null
  return (await kv.get('device').catch(() => null)) || null
}

/** Whether `device` may sign for `staffId` at every venue of `venues` for a while yet. */
export function gateDeviceReady(device, staffId, venues, now = Date.now()) {
  return (
    !!device?.serial &&
    device.staffId === staffId &&
    venues.every((v) => device.venues.includes(v)) &&
    device.expiresAt - now > RECERTIFY_MS
  )
}

/**
 * This gate's device record for the staff account `me` at `venues`, certified (again) when needed;
 * the same key is kept for the same account (a renewal keeps its serial). Needs the network for a
 * certificate; returns what is stored otherwise, or null without WebCrypto or IndexedDB.
 */
export async function ensureGateDevice(me, venues) {
  if (!me?.id || !venues.length || !idbAvailable() || !globalThis.crypto?.subtle) return null
  let device = await loadGateDevice()
  if (device && device.staffId !== me.id) device = null // another account's key signs nothing for this one
  if (gateDeviceReady(device, me.id, venues)) return device
  if (!device) {
    // extractable = false: the private key signs and can never be read out of this browser
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
    device = { staffId: me.id, privateKey: pair.privateKey, publicKey: b64uEncode(raw), serial: null, venues: [] }
    await kv.set('device', device)
  }
  const cert = await apiFetch('/scans/device', {
    method: 'POST',
    body: { public_key: device.publicKey, venue_slugs: [...new Set([...device.venues, ...venues])] },
  })
  device = { ...device, serial: cert.serial, venues: cert.venue_slugs, expiresAt: Date.parse(cert.expires_at), certificate: cert.certificate }
  await kv.set('device', device)
  return device
}

/**
 * What the gate signs for an offline scan, byte for byte as backend/passes/codes.py
 * `scan_entry_message`: "CX-SCAN-1" ‖ serial (u32) ‖ each field as a u16 length and its UTF-8 bytes.
 */
export function entryMessage(serial, item) {
  const fields = [
    item.nonce,
    item.venue_slug,
    item.direction || 'in',
    item.gate || '',
    item.device_id || '',
    item.code,
    item.offline_result || '',
    String(Date.parse(item.scanned_at)),
  ].map((f) => utf8.encode(f))
  const parts = [CTX_SCAN, u32(serial)]
  for (const f of fields) parts.push(Uint8Array.of(f.length >> 8, f.length & 0xff), f)
  return concat(...parts)
}

/** `item` with this device's serial and signature, or as it is when the device cannot sign for its venue. */
export async function signEntry(device, item) {
  if (!device?.serial || !device.privateKey || !device.venues?.includes(item.venue_slug)) return item
  const signed = { ...item, device_serial: device.serial }
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.privateKey, entryMessage(device.serial, signed))
  return { ...signed, signature: b64uEncode(new Uint8Array(signature)) }
}

async function serverKeys(saved) {
  if (keyCache.at !== saved.data.generated_at) {
    keyCache = { at: saved.data.generated_at, keys: await importServerKeys(saved.data.keys) }
  }
  return keyCache.keys
}

// ---- what this gate did, by reservation_id: {entries, inside, at, day}

async function localState() {
  const all = (await kv.get('local').catch(() => null)) || {}
  const today = cityDate(Date.now())
  for (const [id, s] of Object.entries(all)) if (s.day !== today) delete all[id]
  return all
}

export async function remember(reservationId, direction, at = Date.now()) {
  if (!reservationId || !idbAvailable()) return
  const all = await localState()
  const s = all[reservationId] || { entries: 0, inside: false }
  if (direction === 'in') all[reservationId] = { entries: s.entries + 1, inside: true, at, day: cityDate(at) }
  else all[reservationId] = { entries: s.entries, inside: false, at, day: cityDate(at) }
  await kv.set('local', all)
}

/**
 * Decide a scan without the server: verify the code like codes.py, then the cached entitlements.
 * Returns {result, entitlement}; 'ok' is remembered (no second entry at this gate).
 */
export async function decideLocally(scan, saved) {
  const at = Date.parse(scan.scanned_at)
  let verified
  try {
    verified = await verifyCode(scan.code, await serverKeys(saved), Math.floor(at / 1000), {
      windowS: saved.data.window_s,
      skewS: saved.data.skew_s,
    })
  } catch (err) {
    if (err instanceof Rejected) return { result: err.result, entitlement: null }
    throw err
  }
  const decision = decideOffline(verified, {
    venueSlug: scan.venue_slug,
    direction: scan.direction,
    at,
    keys: saved.data,
    local: await localState(),
  })
  if (decision.result === 'ok') await remember(decision.entitlement.reservation_id, scan.direction, at)
  return decision
}

// ---- the queue

/**
 * Queue a scan decided offline, signed by this gate's key when it has one for the venue (unsigned
 * scans reach the server but are flagged, never admitted); `partySize` is kept beside it for the
 * screen, never sent.
 */
export async function enqueue(item, partySize) {
  let signed = item
  try {
    signed = await signEntry(await loadGateDevice(), item)
  } catch {
    /* no key to sign with: it goes up unsigned, and staff see it flagged */
  }
  await queue.set(item.nonce, { ...signed, _party: partySize || 0 })
}

// what POST /scans/batch takes (it refuses unknown fields)
function wire(item) {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !k.startsWith('_')))
}

export async function queued() {
  if (!idbAvailable()) return []
  return (await queue.values().catch(() => [])).sort((a, b) => a.scanned_at.localeCompare(b.scanned_at))
}

export async function conflicts() {
  return (await kv.get('conflicts').catch(() => null)) || []
}

export async function clearConflicts() {
  await kv.set('conflicts', [])
}

/** Uploaded scans the server could not trust, with its reason: for staff to look at. */
export async function flaggedScans() {
  return (await kv.get('flagged').catch(() => null)) || []
}

export async function clearFlagged() {
  await kv.set('flagged', [])
}

/**
 * Upload the queue (POST /scans/batch, oldest first). The server answers a nonce it has seen as
 * before, so sending an item twice after a lost answer counts it once. Returns the new conflicts.
 */
let syncing = null
export function sync() {
  if (!syncing) syncing = syncAll().finally(() => (syncing = null))
  return syncing
}

async function syncAll() {
  const found = []
  const flagged = []
  const note = (out, item) => {
    if (out.conflict) found.push({ ...out, scanned_at: item?.scanned_at })
    if (out.result === 'flagged') flagged.push({ ...out, scanned_at: item?.scanned_at, party_size: item?._party })
  }
  for (;;) {
    const items = (await queued()).slice(0, BATCH)
    if (!items.length) break
    let answer
    try {
      answer = await apiFetch('/scans/batch', { method: 'POST', body: { items: items.map(wire) } })
    } catch (err) {
      // one bad item (say, kept past the server's 72 h) must not hold up the rest: send one by one
      if (err instanceof ApiError && err.status === 400 && items.length > 1) {
        for (const item of items) {
          try {
            const one = await apiFetch('/scans/batch', { method: 'POST', body: { items: [wire(item)] } })
            one.items.forEach((i) => note(i, item))
          } catch (e) {
            if (!(e instanceof ApiError && e.status === 400)) throw e
          }
          await queue.del(item.nonce)
        }
        continue
      }
      throw err
    }
    const byNonce = new Map(items.map((i) => [i.nonce, i]))
    for (const out of answer.items) note(out, byNonce.get(out.nonce))
    for (const item of items) await queue.del(item.nonce)
  }
  if (found.length) await kv.set('conflicts', [...(await conflicts()), ...found])
  if (flagged.length) await kv.set('flagged', [...(await flaggedScans()), ...flagged])
  return found
}

/**
 * Fresh keys for this gate. Only with its queue empty does the fetch name the gate's device (its
 * sync): scans still waiting were made before, and a sync after them would leave them untrusted.
 */
export async function refreshGate(me, venues) {
  let device = null
  if (!(await queued()).length) {
    try {
      device = await ensureGateDevice(me, venues)
    } catch {
      /* no certificate this time: the keys still come, and offline scans go up unsigned */
    }
  }
  return refreshKeys(device)
}

// ---- the staff profile, for opening the scanner offline

export async function cachedMe() {
  return (await kv.get('me').catch(() => null)) || null
}

export async function rememberMe(me) {
  if (!idbAvailable() || !me) return
  // plain copies: a reactive proxy cannot be stored (structured clone)
  const plain = { id: me.id, roles: [...(me.roles || [])], venue_slugs: [...(me.venue_slugs || [])], display_name: me.display_name }
  await kv.set('me', plain).catch(() => {})
}
