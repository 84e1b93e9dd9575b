// Base45 against RFC 9285's own examples (sections 4.3 and 4.4) and its rules for bad input.
import { describe, expect, it } from 'vitest'
import { BASE45, base45Decode, base45Encode } from '../../src/pass/base45.js'

const ascii = (s) => new TextEncoder().encode(s)
const text = (bytes) => new TextDecoder().decode(bytes)

describe('base45 (RFC 9285)', () => {
  it.each([
    ['AB', 'BB8'],
    ['Hello!!', '%69 VD92EX0'],
    ['base-45', 'UJCLQE7W581'],
  ])('encodes %j as %j and back', (plain, encoded) => {
    expect(base45Encode(ascii(plain))).toBe(encoded)
    expect(text(base45Decode(encoded))).toBe(plain)
  })

  it('decodes "QED8WEX0" to "ietf!"', () => {
    expect(text(base45Decode('QED8WEX0'))).toBe('ietf!')
  })

  it('has the 45 characters of the RFC, in order', () => {
    expect(BASE45).toHaveLength(45)
    expect(BASE45).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:')
  })

  it('encodes nothing as nothing', () => {
    expect(base45Encode(new Uint8Array())).toBe('')
    expect(base45Decode('')).toEqual(new Uint8Array())
  })

  it('round-trips every byte value and both lengths', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(base45Decode(base45Encode(all))).toEqual(all)
    const odd = all.subarray(0, 255)
    expect(base45Decode(base45Encode(odd))).toEqual(odd)
    expect(base45Encode(Uint8Array.of(0xff, 0xff))).toBe('FGW') // 65535 = 15 + 21·45 + 32·45²
  })

  it.each([
    ['a character outside the alphabet', 'bb8'],
    ['a lower-case letter', 'BB8a'],
    ['a character outside ASCII', 'BB€'],
    ['a dangling single character', 'BB8B'],
    ['a triplet above 65535', 'GGW'],
    ['a triplet of the largest value', ':::'],
    ['a pair above 255', '::'],
  ])('rejects %s', (_why, bad) => {
    expect(() => base45Decode(bad)).toThrow('not base45')
  })
})
