// An event's price on its page (the 2027 New Year concert listed ¥280 while its zones sold from ¥120):
// from its performances' zones when it sells tickets, "起" / "from" when they differ.
import { beforeAll, describe, expect, it } from 'vitest'
import 'vue'
import 'vant'
import { standInBrowser } from './fixtures/browser-stand-in'

let eventPriceRange
let eventPriceText
let setLang

beforeAll(async () => {
  standInBrowser()
  ;({ eventPriceRange, eventPriceText } = await import('../../src/format.js'))
  ;({ setLang } = await import('../../src/i18n.js'))
})

const zones = (...fen) => ({ price_zones: fen.map((price_fen, i) => ({ zone: 'ABCD'[i], price_fen })) })
const concert = { price_fen: 12000, ticketing: { performances: [zones(48000, 38000, 28000, 12000), zones(48000, 12000)] } }

describe("an event's price", () => {
  it('spans its performances\' zones when it sells tickets, else is its listed price', () => {
    expect(eventPriceRange(concert)).toEqual({ low: 12000, high: 48000 })
    expect(eventPriceRange({ price_fen: 5000 })).toEqual({ low: 5000, high: 5000 })
    expect(eventPriceRange({ price_fen: 9800, ticketing: { performances: [] } })).toEqual({ low: 9800, high: 9800 })
  })

  it('reads "from" the cheapest zone when zones differ, one price when not, free when free', () => {
    setLang('zh')
    expect(eventPriceText(concert)).toBe('¥120 起')
    expect(eventPriceText({ price_fen: 9800, ticketing: { performances: [zones(9800)] } })).toBe('¥98')
    expect(eventPriceText({ price_fen: 0 })).toBe('免费')
    setLang('en')
    expect(eventPriceText(concert)).toBe('from ¥120')
    expect(eventPriceText({ price_fen: 0 })).toBe('Free')
  })
})
