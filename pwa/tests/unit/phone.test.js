import { describe, expect, it } from 'vitest'
import { normalisePhone } from '../../src/phone.js'

describe('normalisePhone', () => {
  it('takes a mainland mobile however it is typed', () => {
    expect(normalisePhone('139 1234 5678')).toBe('+8613912345678')
    expect(normalisePhone('+86 139-1234-5678')).toBe('+8613912345678')
    expect(normalisePhone('008613912345678')).toBe('+8613912345678')
  })
  it('refuses what is not one', () => {
    for (const bad of ['', '12345', '12912345678', '+1 415 555 0100', '1391234567x']) expect(normalisePhone(bad)).toBe('')
  })
})
