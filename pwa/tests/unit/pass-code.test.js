// The pass code (docs/pass-code.md): what the gate accepts offline (pass/verify.js verifyCode) must
// be what the server makes (backend/passes/codes.py; fixtures/backend-codes.json was made by it), and
// what the phone makes (pass/device.js deviceCode) must pass the same checks.
import { beforeAll, describe, expect, it, vi } from 'vitest'
import fixture from './fixtures/backend-codes.json'
import { base45Decode, base45Encode } from '../../src/pass/base45.js'
import { b64uDecode, b64uEncode, concat, hex, u32, ascii } from '../../src/pass/bytes.js'
import { DEVICE_CODE, Rejected, SERVER_CODE, decompressP256, importServerKeys, verifyCode } from '../../src/pass/verify.js'

vi.mock('../../src/api.js', () => ({ apiFetch: vi.fn() }))
const { deviceCode, deviceNow, needsCertificate } = await import('../../src/pass/device.js')

const LIMITS = { windowS: 30, skewS: 30 }
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' }

async function rejection(promise) {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(Rejected)
    return err.result
  }
  throw new Error('the code was accepted')
}

/** Flip one bit of the decoded code at `at`, and encode again. */
function tamper(code, at) {
  const raw = base45Decode(code)
  raw[at] ^= 1
  return base45Encode(raw)
}

let serverKeys
beforeAll(async () => {
  serverKeys = await importServerKeys(fixture.keys)
})

describe('server code (type 1), made by the backend', () => {
  const { code, issued_at: issued } = fixture.server_code

  it('is 78 bytes: type, kid, pass id, issued at, signature', () => {
    const raw = base45Decode(code)
    expect(code).toHaveLength(117)
    expect(raw).toHaveLength(78)
    expect(raw[0]).toBe(SERVER_CODE)
    expect(raw[1]).toBe(3)
    expect(hex(raw.subarray(2, 10))).toBe(fixture.pass_id)
  })

  it('is accepted within the window, with its pass id and time', async () => {
    const ok = await verifyCode(code, serverKeys, issued + 20, LIMITS)
    expect(ok).toEqual({ passId: fixture.pass_id, shownAt: issued, deviceSerial: null })
    // surrounding white space (a scanner's line end) does not matter
    await expect(verifyCode(`  ${code}\n`, serverKeys, issued, LIMITS)).resolves.toMatchObject({ shownAt: issued })
  })

  it('is stale past window + skew, and from the future beyond the skew', async () => {
    await expect(verifyCode(code, serverKeys, issued + 60, LIMITS)).resolves.toBeTruthy()
    expect(await rejection(verifyCode(code, serverKeys, issued + 61, LIMITS))).toBe('stale_code')
    expect(await rejection(verifyCode(code, serverKeys, issued - 31, LIMITS))).toBe('stale_code')
  })

  it('is invalid when any byte changes, or signed by a key the gate does not have', async () => {
    for (const at of [0, 1, 5, 12, 40, 77]) {
      expect(await rejection(verifyCode(tamper(code, at), serverKeys, issued, LIMITS))).toBe('invalid')
    }
    expect(await rejection(verifyCode(code, new Map(), issued, LIMITS))).toBe('invalid')
  })

  it('is invalid when it is not base45 or has the wrong length', async () => {
    expect(await rejection(verifyCode('hello', serverKeys, issued, LIMITS))).toBe('invalid')
    expect(await rejection(verifyCode('', serverKeys, issued, LIMITS))).toBe('invalid')
    expect(await rejection(verifyCode(code.slice(0, -3), serverKeys, issued, LIMITS))).toBe('invalid')
  })
})

describe('device code (type 2), made by the backend and a phone key', () => {
  const { code, shown_at: shown, serial, expires } = fixture.device_code

  it('is 183 bytes and carries the certificate, serial and expiry', async () => {
    const raw = base45Decode(code)
    expect(code).toHaveLength(275)
    expect(raw).toHaveLength(183)
    expect(raw[0]).toBe(DEVICE_CODE)
    const ok = await verifyCode(code, serverKeys, shown + 5, LIMITS)
    expect(ok).toEqual({ passId: fixture.pass_id, shownAt: shown, deviceSerial: serial })
  })

  it('is invalid when the certificate, the time or the phone signature changes', async () => {
    for (const at of [3, 20, 60, 115, 118, 150]) {
      expect(await rejection(verifyCode(tamper(code, at), serverKeys, shown, LIMITS))).toBe('invalid')
    }
  })

  it('is stale when the certificate has expired, even if just shown', async () => {
    expect(await rejection(verifyCode(code, serverKeys, expires + 1, { windowS: 30, skewS: 1e9 }))).toBe('stale_code')
  })

  it('names the phone key the server certified (compressed point ↔ uncompressed)', () => {
    const point = decompressP256(b64uDecode(fixture.device_code.device_key_compressed))
    expect(b64uEncode(point)).toBe(fixture.device_code.device_key_uncompressed)
    expect(() => decompressP256(new Uint8Array(33))).toThrow()
  })
})

describe('a code made on this phone (pass/device.js)', () => {
  async function phone() {
    // a server key and a certificate for a fresh device key, as POST /pass/device answers
    const server = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
    const point = concat(Uint8Array.of(2 + (raw[64] & 1)), raw.subarray(1, 33))
    const passId = 'feedfacecafebeef'
    const expires = 1_900_000_000
    const cert = concat(Uint8Array.of(DEVICE_CODE, 9), Uint8Array.from(passId.match(/../g), (h) => parseInt(h, 16)), u32(42), u32(expires), point)
    const signature = new Uint8Array(await crypto.subtle.sign(ECDSA, server.privateKey, concat(ascii('CX-CERT-1'), cert)))
    const publicKey = b64uEncode(new Uint8Array(await crypto.subtle.exportKey('raw', server.publicKey)))
    const keys = await importServerKeys([{ kid: 9, alg: 'ES256', public_key: publicKey }, { kid: 1, alg: 'EdDSA', public_key: 'AA' }])
    const device = { passId, privateKey: pair.privateKey, certificate: concat(cert, signature), expiresAt: expires * 1000, clockOffsetS: 0 }
    return { device, keys, passId }
  }

  it('is accepted by the gate, and refused when the phone signs for another time', async () => {
    const { device, keys, passId } = await phone()
    expect(keys.size).toBe(1) // only ES256 keys are taken
    const made = await deviceCode(device, 1_850_000_000)
    expect(made.code).toHaveLength(275)
    await expect(verifyCode(made.code, keys, 1_850_000_010, LIMITS)).resolves.toEqual({
      passId,
      shownAt: 1_850_000_000,
      deviceSerial: 42,
    })
    // the certificate and the signature of one time, with another time written in: invalid
    const raw = base45Decode(made.code)
    raw.set(u32(1_850_000_005), 115)
    expect(await rejection(verifyCode(base45Encode(raw), keys, 1_850_000_010, LIMITS))).toBe('invalid')
  })

  it('uses the server clock it learnt, and asks for a new certificate near expiry', async () => {
    const { device, passId } = await phone()
    expect(deviceNow({ clockOffsetS: -7 }, 1_000_000_000_000)).toBe(1_000_000_000 - 7)
    expect(needsCertificate(device, passId, device.expiresAt - 13 * 3600 * 1000)).toBe(false)
    expect(needsCertificate(device, passId, device.expiresAt - 11 * 3600 * 1000)).toBe(true)
    expect(needsCertificate(device, 'another', 0)).toBe(true)
    expect(needsCertificate(null, passId)).toBe(true)
  })
})
