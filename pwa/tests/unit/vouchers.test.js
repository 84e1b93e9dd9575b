import { describe, expect, it } from 'vitest'
import { countdownParts, yuanToFen } from '../../src/vouchers/format'
import strings from '../../src/i18n/vouchers.js'

describe('the release countdown', () => {
  it('counts hours, minutes and seconds, and days when far; never below zero', () => {
    expect(countdownParts(3_723_000, 0)).toEqual({ days: 0, hms: '01:02:03' })
    expect(countdownParts(2 * 86_400_000 + 5_000, 0)).toEqual({ days: 2, hms: '00:00:05' })
    expect(countdownParts(0, 10_000)).toEqual({ days: 0, hms: '00:00:00' })
  })
})

describe('the till amount', () => {
  it('takes yuan with up to two decimals, as fen', () => {
    expect(yuanToFen('58')).toBe(5800)
    expect(yuanToFen('58.5')).toBe(5850)
    expect(yuanToFen(' 0.07 ')).toBe(7)
    expect(yuanToFen('58.555')).toBeNaN()
    expect(yuanToFen('-3')).toBeNaN()
    expect(yuanToFen('')).toBeNaN()
  })
})

describe('the strings', () => {
  it('has every key in both languages, and the labels the screens build', () => {
    expect(Object.keys(strings.en).sort()).toEqual(Object.keys(strings.zh).sort())
    for (const code of ['sold_out', 'limit_reached', 'not_started', 'ended', 'identity_required']) {
      expect(strings.zh[`vouchers.error.${code}`]).toBeTruthy()
    }
    for (const r of ['ok', 'already_redeemed', 'below_min_spend', 'wrong_merchant', 'expired', 'invalid']) {
      expect(strings.en[`merchant.result.${r}`]).toBeTruthy()
    }
  })
})
