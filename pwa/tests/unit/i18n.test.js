// The dictionary stays readable in both languages (issue 21, slips): every key in both, no Chinese left in the
// English and no English left in the Chinese (beyond names and codes that are the same in both), and English
// counts agree with their numbers ("1 venue", "2 venues"; `key.one` is the singular form t() picks for n = 1).
import { beforeAll, describe, expect, it } from 'vitest'
import 'vue' // loaded before the stand-in document below: Vue's DOM renderer looks for a real one
import 'vant'
import { standInBrowser } from './fixtures/browser-stand-in'

let messages
let t
let setLang

beforeAll(async () => {
  standInBrowser()
  const mod = await import('../../src/i18n.js')
  messages = mod._messages
  t = mod.t
  setLang = mod.setLang
})

const CJK = /[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]/
// English strings may name these in Chinese: the other language's own name, the brand, sample input
const EN_MAY_HOLD_CJK = new Set(['lang.switch', 'app.name', 'app.fullName'])
// words that are the same in a Chinese sentence: names, standards, codes, units
const ZH_MAY_HOLD = /^(English|Changxiang|Changzhou|Stripe|Tianditu|AMap|WeChat|Alipay|PWA|QR|ID|IIIF|OSM|OCPI|HLS|ICS|iCal|CSV|JSON|GeoJSON|SOS|App|app|Apple|Google|Baidu|Mirador|Pay|FREQ|WEEKLY|DAILY|MONTHLY|BYDAY|COUNT|UNTIL|Wi-Fi|WiFi|GB|AC|DC|kW|km|CNY|CC|BY|NC|SA|ND|LB|GCJ|WGS|Sketch|map|Illustration|Type|CHAdeMO|hongmei|hmgy|SHA-)$/

describe('the dictionary', () => {
  it('has every key in both languages', () => {
    const zh = Object.keys(messages.zh)
    const en = Object.keys(messages.en)
    expect(zh.filter((k) => !(k in messages.en))).toEqual([])
    // English singular forms (`key.one`) have no Chinese twin: Chinese needs none
    expect(en.filter((k) => !(k in messages.zh) && !(k.endsWith('.one') && k.slice(0, -4) in messages.zh))).toEqual([])
  })

  it('keeps Chinese out of the English', () => {
    const mixed = Object.entries(messages.en).filter(([k, v]) => !EN_MAY_HOLD_CJK.has(k) && CJK.test(v))
    expect(mixed.map(([k, v]) => `${k}: ${v}`)).toEqual([])
  })

  it('keeps English out of the Chinese', () => {
    const mixed = []
    for (const [k, v] of Object.entries(messages.zh)) {
      const text = v.replace(/\{\w+\}/g, '')
      for (const word of text.match(/[A-Za-z][A-Za-z-]{3,}/g) || []) if (!ZH_MAY_HOLD.test(word)) mixed.push(`${k}: ${word}`)
    }
    expect(mixed).toEqual([])
  })

  it('agrees English counts with their numbers', () => {
    setLang('en')
    const wrong = []
    for (const key of Object.keys(messages.en)) {
      if (key.endsWith('.one') || !/\{(n|count)\}/.test(messages.en[key])) continue
      const one = t(key, { n: 1, count: 1, kind: 'toilets', name: 'X', d: '1 km', s: 'X', m: 'X', km: 10 })
      // "1 venues", "1 sessions": a plural noun after the number one
      const bad = one.match(/\b1 (?!km\b|m\b|min\b|kW\b|KB\b)([a-z]+s)\b/i)
      if (bad && !/^(is|was|has|this|us|bus|yes|news|access|address|across|plus|minus|hours?)$/i.test(bad[1])) wrong.push(`${key}: ${one}`)
      const two = t(key, { n: 2, count: 2, kind: 'toilets', name: 'X', d: '1 km', s: 'X', m: 'X', km: 10 })
      if (/\b2 (venue|session|event|place|result|visitor|booking|ticket|seat|stop|message|person|day)\b/i.test(two)) wrong.push(`${key}: ${two}`)
    }
    setLang('zh')
    expect(wrong).toEqual([])
  })

  it('picks the singular for one', () => {
    setLang('en')
    expect(t('venues.total', { n: 1 })).toBe('1 venue')
    expect(t('venues.total', { n: 2 })).toBe('2 venues')
    setLang('zh')
    expect(t('venues.total', { n: 1 })).toBe('共 1 个场馆')
  })
})
