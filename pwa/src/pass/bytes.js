// Byte helpers for the pass code (docs/pass-code.md): base45 (RFC 9285), base64url, big-endian u32.
// base45 mirrors backend/lib/signing_keys.py byte for byte, strictness included.

export const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
const INDEX = new Map([...BASE45].map((ch, i) => [ch, i]))

/** RFC 9285: two bytes → three characters of QR's alphanumeric set. */
export function base45Encode(bytes) {
  let out = ''
  const n = bytes.length
  for (let i = 0; i + 1 < n; i += 2) {
    let v = bytes[i] * 256 + bytes[i + 1]
    const c = v % 45
    v = (v - c) / 45
    const d = v % 45
    const e = (v - d) / 45
    out += BASE45[c] + BASE45[d] + BASE45[e]
  }
  if (n % 2) {
    const v = bytes[n - 1]
    out += BASE45[v % 45] + BASE45[Math.floor(v / 45)]
  }
  return out
}

/** The inverse; throws on a character outside the alphabet, a dangling character or an overflow. */
export function base45Decode(text) {
  const values = []
  for (const ch of text) {
    const v = INDEX.get(ch)
    if (v === undefined) throw new Error('not base45')
    values.push(v)
  }
  const out = []
  for (let i = 0; i < values.length; i += 3) {
    const left = values.length - i
    if (left >= 3) {
      const v = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
      if (v > 0xffff) throw new Error('not base45')
      out.push(v >> 8, v & 0xff)
    } else if (left === 2) {
      const v = values[i] + values[i + 1] * 45
      if (v > 0xff) throw new Error('not base45')
      out.push(v)
    } else {
      throw new Error('not base45')
    }
  }
  return Uint8Array.from(out)
}

export function b64uEncode(bytes) {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function b64uDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4)
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function u32(value) {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value >>> 0, false)
  return out
}

export function readU32(bytes, at) {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, false)
}

export function ascii(text) {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0))
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** A random token for scan nonces: [A-Za-z0-9], `n` characters. */
export function randomToken(n = 20) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = crypto.getRandomValues(new Uint8Array(n))
  return Array.from(bytes, (b) => alphabet[b % 62]).join('')
}
