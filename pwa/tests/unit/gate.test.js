// The gate's decision offline: pass/verify.js decideOffline (the same rules as the server's
// ScanService._decide, from the entitlements GET /scans/keys handed out) and pass/gate.js, which
// verifies the code, decides, remembers what it admitted and queues the scan for POST /scans/batch.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import fixture from './fixtures/backend-codes.json'
import { cityDate, decideOffline } from '../../src/pass/verify.js'

// IndexedDB and the API, in memory
const stores = new Map()
vi.mock('../../src/pass/idb.js', () => ({
  idbAvailable: () => true,
  Store: class {
    constructor(db, name) {
      this.key = `${db}/${name}`
      if (!stores.has(this.key)) stores.set(this.key, new Map())
    }
    get map() {
      return stores.get(this.key)
    }
    async get(k) {
      return structuredClone(this.map.get(k))
    }
    async set(k, v) {
      this.map.set(k, structuredClone(v))
    }
    async del(k) {
      this.map.delete(k)
    }
    async values() {
      return [...this.map.values()].map((v) => structuredClone(v))
    }
  },
}))
const apiFetch = vi.fn()
vi.mock('../../src/api.js', () => ({
  apiFetch: (...args) => apiFetch(...args),
  ApiError: class ApiError extends Error {
    constructor({ status = 0 } = {}) {
      super('api')
      this.status = status
    }
  },
}))
const gate = await import('../../src/pass/gate.js')

const PASS = fixture.pass_id
const VENUE = 'changzhou-museum'
// 10:00 in Changzhou on the day of the fixture's codes
const SHOWN = fixture.server_code.issued_at
const AT = SHOWN * 1000
const DAY = cityDate(AT)
const iso = (ms) => new Date(ms).toISOString()
const HOUR = 3600 * 1000

function entitlement(over = {}) {
  return {
    reservation_id: 'r-1',
    pass_id: PASS,
    venue_slug: VENUE,
    status: 'confirmed',
    valid_from: iso(AT - HOUR),
    valid_until: iso(AT + HOUR),
    entries: 0,
    inside: false,
    allow_reentry: false,
    party_size: 2,
    ...over,
  }
}

function keys(entitlements = [entitlement()], over = {}) {
  return { generated_at: iso(AT - 2 * HOUR), entitlements, revoked: [], ...over }
}

const verified = { passId: PASS, shownAt: SHOWN, deviceSerial: null }
const decide = (o = {}) => decideOffline(o.verified || verified, { venueSlug: VENUE, direction: 'in', at: AT, keys: keys(), ...o })

describe('decideOffline', () => {
  it('admits a confirmed booking for now at this venue', () => {
    expect(decide()).toEqual({ result: 'ok', entitlement: entitlement() })
  })

  it('refuses a revoked pass or phone', () => {
    expect(decide({ keys: keys(undefined, { revoked: [{ pass_id: PASS }] }) }).result).toBe('revoked')
    const device = { ...verified, deviceSerial: 7 }
    expect(decide({ verified: device, keys: keys(undefined, { revoked: [{ device_serial: 7 }] }) }).result).toBe('revoked')
    expect(decide({ verified: device, keys: keys(undefined, { revoked: [{ device_serial: 8 }] }) }).result).toBe('ok')
  })

  it('refuses a holder with nothing today at this venue', () => {
    expect(decide({ venueSlug: 'tianning-pagoda' }).result).toBe('wrong_venue')
    expect(decide({ keys: keys([entitlement({ pass_id: 'ffffffffffffffff' })]) }).result).toBe('wrong_venue')
    expect(decide({ at: AT + 24 * HOUR }).result).toBe('wrong_venue') // the booking was yesterday's
  })

  it('refuses outside the booked time, and says why for unpaid and cancelled bookings', () => {
    expect(decide({ at: AT + 2 * HOUR }).result).toBe('invalid_time')
    expect(decide({ keys: keys([entitlement({ status: 'pending_payment' })]) }).result).toBe('unpaid')
    expect(decide({ keys: keys([entitlement({ status: 'cancelled' })]) }).result).toBe('canceled')
  })

  it('admits once: inside already, or entered before without re-entry, is already redeemed', () => {
    expect(decide({ keys: keys([entitlement({ inside: true, entries: 1 })]) }).result).toBe('already_redeemed')
    expect(decide({ keys: keys([entitlement({ entries: 1 })]) }).result).toBe('already_redeemed')
    expect(decide({ keys: keys([entitlement({ entries: 1, allow_reentry: true })]) }).result).toBe('ok')
  })

  it('lets out only who is inside', () => {
    expect(decide({ direction: 'out' }).result).toBe('already_redeemed')
    expect(decide({ direction: 'out', keys: keys([entitlement({ inside: true, entries: 1 })]) }).result).toBe('ok')
  })

  it('takes what this gate did after the list was made over the list', () => {
    const local = { 'r-1': { entries: 1, inside: true, at: AT - HOUR } }
    expect(decide({ local }).result).toBe('already_redeemed')
    expect(decide({ direction: 'out', local }).result).toBe('ok')
    // a record older than the list does not undo an exit the server already knows of
    const old = { 'r-1': { entries: 1, inside: true, at: AT - 3 * HOUR } }
    expect(decide({ direction: 'out', local: old, keys: keys([entitlement({ entries: 1, inside: false })]) }).result).toBe(
      'already_redeemed',
    )
  })

  it('picks the earliest booking that is on now', () => {
    const later = entitlement({ reservation_id: 'r-2', valid_from: iso(AT - HOUR / 2) })
    const first = entitlement({ reservation_id: 'r-1' })
    expect(decide({ keys: keys([later, first]) }).entitlement.reservation_id).toBe('r-1')
    const firstInside = entitlement({ reservation_id: 'r-1', inside: true, entries: 1, allow_reentry: true })
    expect(decide({ keys: keys([later, firstInside]) }).entitlement.reservation_id).toBe('r-2')
  })
})

describe('pass/gate.js: deciding with the cached keys, and the queue', () => {
  const saved = { data: { ...keys(), keys: fixture.keys, window_s: 30, skew_s: 30 }, fetchedAt: AT }
  const scan = (over = {}) => ({
    code: fixture.server_code.code,
    venue_slug: VENUE,
    direction: 'in',
    device_id: 'pwa-test',
    nonce: `n-${Math.random()}`,
    scanned_at: iso(AT + 5000),
    ...over,
  })

  beforeEach(() => {
    for (const store of stores.values()) store.clear()
    apiFetch.mockReset()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(AT + 5000)
    return () => vi.useRealTimers()
  })

  it('verifies the code, admits once, then lets out', async () => {
    expect(cityDate(AT + 5000)).toBe(DAY)
    expect((await gate.decideLocally(scan(), saved)).result).toBe('ok')
    expect((await gate.decideLocally(scan(), saved)).result).toBe('already_redeemed')
    expect((await gate.decideLocally(scan({ direction: 'out' }), saved)).result).toBe('ok')
    expect((await gate.decideLocally(scan({ direction: 'out' }), saved)).result).toBe('already_redeemed')
  })

  it('turns a bad or stale code into its verdict', async () => {
    expect((await gate.decideLocally(scan({ code: 'NOT A CODE' }), saved)).result).toBe('invalid')
    const late = scan({ scanned_at: iso(AT + 5 * 60 * 1000) })
    expect((await gate.decideLocally(late, saved)).result).toBe('stale_code')
  })

  it('queues scans oldest first and uploads them without the screen-only fields', async () => {
    await gate.enqueue({ ...scan({ nonce: 'b', scanned_at: iso(AT + 2000) }), offline_result: 'ok' }, 2)
    await gate.enqueue({ ...scan({ nonce: 'a', scanned_at: iso(AT + 1000) }), offline_result: 'ok' }, 2)
    expect((await gate.queued()).map((i) => i.nonce)).toEqual(['a', 'b'])
    apiFetch.mockResolvedValueOnce({ items: [{ nonce: 'a' }, { nonce: 'b', conflict: true, reservation_id: 'r-1' }] })
    const found = await gate.sync()
    const [path, { body }] = apiFetch.mock.calls[0]
    expect(path).toBe('/scans/batch')
    expect(body.items.map((i) => i.nonce)).toEqual(['a', 'b'])
    expect(body.items.every((i) => !('_party' in i))).toBe(true)
    expect(found).toEqual([{ nonce: 'b', conflict: true, reservation_id: 'r-1', scanned_at: iso(AT + 2000) }])
    expect(await gate.queued()).toEqual([])
    expect(await gate.conflicts()).toEqual(found)
  })
})
