// The gate's offline memory (IndexedDB 'cx-scan'): the last GET /scans/keys (public keys,
// revocations, today's entitlements), what this gate admitted offline, and the queue of scans to
// upload with POST /scans/batch when the network is back.
import { apiFetch, ApiError } from '../api'
import { Store, idbAvailable } from './idb.js'
import { importServerKeys, verifyCode, decideOffline, Rejected, cityDate } from './verify.js'

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

/** GET /scans/keys → stored; returns {data, fetchedAt}. */
export async function refreshKeys() {
  const data = await apiFetch('/scans/keys')
  const saved = { data, fetchedAt: Date.now() }
  if (idbAvailable()) await kv.set('keys', saved)
  return saved
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

/** Queue a scan decided offline; `partySize` is kept beside it for the screen, never sent. */
export async function enqueue(item, partySize) {
  await queue.set(item.nonce, { ...item, _party: partySize || 0 })
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
            found.push(...one.items.filter((i) => i.conflict).map((i) => ({ ...i, scanned_at: item.scanned_at })))
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
    for (const out of answer.items) {
      if (out.conflict) found.push({ ...out, scanned_at: byNonce.get(out.nonce)?.scanned_at })
    }
    for (const item of items) await queue.del(item.nonce)
  }
  if (found.length) await kv.set('conflicts', [...(await conflicts()), ...found])
  return found
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
