// The gate phone's own key (pass/gate.js, docs/pass-code.md "Offline gates"): what it signs for an
// offline scan must be byte for byte what backend/passes/codes.py scan_entry_message checks
// (fixtures/backend-scan-entries.json was made by it), the key is non-extractable, and the keys
// fetch names the device (its sync) only with the queue empty.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import fixture from './fixtures/backend-scan-entries.json'
import { b64uDecode, hex } from '../../src/pass/bytes.js'

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
      return this.map.get(k)
    }
    async set(k, v) {
      this.map.set(k, v)
    }
    async del(k) {
      this.map.delete(k)
    }
    async values() {
      return [...this.map.values()]
    }
  },
}))
const apiFetch = vi.fn()
vi.mock('../../src/api.js', () => ({
  apiFetch: (...args) => apiFetch(...args),
  ApiError: class ApiError extends Error {},
}))
const gate = await import('../../src/pass/gate.js')

const ECDSA = { name: 'ECDSA', hash: 'SHA-256' }
const P256 = { name: 'ECDSA', namedCurve: 'P-256' }
const ME = { id: 7, roles: ['staff'], venue_slugs: ['changzhou-museum'] }
const VENUES = ['changzhou-museum']
const certificate = (serial, venues = VENUES) => ({
  certificate: 'AwE',
  serial,
  kid: 1,
  venue_slugs: venues,
  expires_at: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString(),
})
const keysAnswer = (over = {}) => ({
  keys: [],
  revoked: [],
  generated_at: new Date().toISOString(),
  window_s: 30,
  skew_s: 30,
  venue_slugs: VENUES,
  entitlements: [],
  device_synced_at: new Date().toISOString(),
  ...over,
})

beforeEach(() => {
  for (const store of stores.values()) store.clear()
  apiFetch.mockReset()
})

describe('the message a gate signs', () => {
  it('is the bytes the server checks, and the server\'s signature over it verifies', async () => {
    const server = await crypto.subtle.importKey('raw', b64uDecode(fixture.public_key), P256, false, ['verify'])
    for (const { item, message_hex, signature } of fixture.entries) {
      const message = gate.entryMessage(fixture.serial, item)
      expect(hex(message)).toBe(message_hex)
      expect(await crypto.subtle.verify(ECDSA, server, b64uDecode(signature), message)).toBe(true)
    }
  })
})

describe('the gate device', () => {
  it('makes a non-extractable key, certifies it for this account, and signs queued scans with it', async () => {
    apiFetch.mockResolvedValueOnce(certificate(42))
    const device = await gate.ensureGateDevice(ME, VENUES)
    const [path, { method, body }] = apiFetch.mock.calls[0]
    expect([path, method, body.venue_slugs]).toEqual(['/scans/device', 'POST', VENUES])
    expect(device.serial).toBe(42)
    expect(device.privateKey.extractable).toBe(false)
    await expect(crypto.subtle.exportKey('pkcs8', device.privateKey)).rejects.toThrow()
    // ready for a while: no second certificate
    expect(await gate.ensureGateDevice(ME, VENUES)).toEqual(device)
    expect(apiFetch).toHaveBeenCalledTimes(1)

    const item = {
      code: 'KB0L60',
      venue_slug: 'changzhou-museum',
      direction: 'in',
      device_id: 'pwa-1',
      nonce: 'nonce-0001',
      scanned_at: new Date().toISOString(),
      offline_result: 'ok',
    }
    await gate.enqueue(item, 2)
    const [queued] = await gate.queued()
    expect(queued.device_serial).toBe(42)
    const publicKey = await crypto.subtle.importKey('raw', b64uDecode(device.publicKey), P256, false, ['verify'])
    const message = gate.entryMessage(42, queued)
    expect(await crypto.subtle.verify(ECDSA, publicKey, b64uDecode(queued.signature), message)).toBe(true)
    // at a venue it is not certified for, the scan goes up unsigned (the server flags it)
    const elsewhere = await gate.signEntry(device, { ...item, venue_slug: 'wujin-museum' })
    expect(elsewhere.signature).toBeUndefined()
  })

  it('another account on this phone gets a key of its own', async () => {
    apiFetch.mockResolvedValueOnce(certificate(42)).mockResolvedValueOnce(certificate(43))
    const first = await gate.ensureGateDevice(ME, VENUES)
    const second = await gate.ensureGateDevice({ ...ME, id: 8 }, VENUES)
    expect(second.serial).toBe(43)
    expect(second.publicKey).not.toBe(first.publicKey)
  })

  it('syncs (names the device) only with an empty queue, and forgets a certificate the server no longer knows', async () => {
    apiFetch.mockResolvedValueOnce(certificate(42)).mockResolvedValueOnce(keysAnswer())
    await gate.refreshGate(ME, VENUES)
    expect(apiFetch.mock.calls[1]).toEqual(['/scans/keys', { query: { device: 42 } }])

    await gate.enqueue({ code: 'X', venue_slug: VENUES[0], nonce: 'waiting-1', scanned_at: new Date().toISOString() }, 1)
    apiFetch.mockResolvedValueOnce(keysAnswer({ device_synced_at: null }))
    await gate.refreshGate(ME, VENUES)
    expect(apiFetch.mock.calls[2]).toEqual(['/scans/keys', { query: undefined }])

    for (const i of await gate.queued()) stores.get('cx-scan/queue').delete(i.nonce)
    apiFetch.mockResolvedValueOnce(keysAnswer({ device_synced_at: null }))
    await gate.refreshGate(ME, VENUES)
    expect((await gate.loadGateDevice()).serial).toBeNull() // revoked or expired: certify again next time
  })

  it('dates scans on the server\'s clock', async () => {
    apiFetch.mockResolvedValueOnce(keysAnswer({ generated_at: new Date(Date.now() + 60_000).toISOString() }))
    const saved = await gate.refreshKeys()
    expect(Math.abs(gate.gateNow(saved) - (Date.now() + 60_000))).toBeLessThan(1000)
  })

  it('keeps what the server flagged for staff', async () => {
    await gate.enqueue({ code: 'X', venue_slug: VENUES[0], nonce: 'old-1', scanned_at: new Date().toISOString() }, 3)
    apiFetch.mockResolvedValueOnce({ items: [{ nonce: 'old-1', result: 'flagged', reason: 'unsigned', conflict: false }] })
    await gate.sync()
    expect(await gate.flaggedScans()).toMatchObject([{ nonce: 'old-1', reason: 'unsigned', party_size: 3 }])
    await gate.clearFlagged()
    expect(await gate.flaggedScans()).toEqual([])
  })
})
