// Base45 (RFC 9285): bytes as text in QR's alphanumeric set, two bytes to three characters. The
// one copy the app uses, for the pass code (docs/pass-code.md); it mirrors
// backend/lib/signing_keys.py byte for byte, strictness included.

export const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
const INDEX = new Map([...BASE45].map((ch, i) => [ch, i]))

/** Two bytes → three characters (least significant first), a last odd byte → two. */
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
