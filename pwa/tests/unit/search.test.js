import { describe, expect, it } from 'vitest'
import { answerParts, factsFor, groupByKind, resultLink } from '../../src/search/results.js'

describe('search results', () => {
  it('opens each kind on its own screen', () => {
    expect(resultLink({ kind: 'venue', slug: 'hongmei-park' })).toEqual({ name: 'venue', params: { slug: 'hongmei-park' } })
    expect(resultLink({ kind: 'poi', slug: 'qingguo-bagui-hall' })).toEqual({ name: 'poi', params: { id: 'qingguo-bagui-hall' } })
    expect(resultLink({ kind: 'amenity', slug: 'toilet-x', category: 'toilet' })).toEqual({ name: 'nearby', query: { kind: 'toilet' } })
    expect(resultLink({ kind: 'article', slug: 'a' }).name).toBe('article')
  })

  it('groups by kind in a fixed order, keeping the ranking inside each group', () => {
    const items = [
      { kind: 'amenity', slug: 'a1' },
      { kind: 'venue', slug: 'v1' },
      { kind: 'event', slug: 'e1' },
      { kind: 'venue', slug: 'v2' },
    ]
    const groups = groupByKind(items)
    expect(groups.map((g) => g.kind)).toEqual(['venue', 'event', 'amenity'])
    expect(groups[0].items.map((i) => i.slug)).toEqual(['v1', 'v2'])
    expect(groupByKind([])).toEqual([])
  })
})

describe('guide answers', () => {
  const citations = [
    { kind: 'venue', slug: 'hongmei-park', title: '红梅公园' },
    { kind: 'event', slug: 'plum', title: '赏梅节' },
  ]

  it('turns [n] marks that name a citation into links, and leaves the others as text', () => {
    expect(answerParts('红梅公园现在开放[1]，赏梅节在周六[2]。[3]', citations)).toEqual([
      { text: '红梅公园现在开放' },
      { cite: 1 },
      { text: '，赏梅节在周六' },
      { cite: 2 },
      { text: '。[3]' },
    ])
    expect(answerParts('没有找到。', [])).toEqual([{ text: '没有找到。' }])
    expect(answerParts('', citations)).toEqual([])
  })

  it('finds the facts of one cited item', () => {
    const facts = [
      { type: 'open_now', kind: 'venue', slug: 'hongmei-park', text: '现在开放' },
      { type: 'price', kind: 'event', slug: 'plum', text: '免费' },
    ]
    expect(factsFor(facts, citations[0]).map((f) => f.type)).toEqual(['open_now'])
  })
})
