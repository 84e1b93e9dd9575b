import { describe, expect, it } from 'vitest'
import { timelineRows, bookable, planRequest, timeChoices, reason, sketchPoints } from '../../src/plans/timeline'

const leg = (mode, minutes, distance_m) => ({ mode, minutes, distance_m })
const items = [
  { kind: 'venue', title: '常州博物馆', why: '常州博物馆：符合你对博物馆的兴趣', travel: leg('taxi', 18, 4951), slot_id: 53, location: { lat: 31.81, lng: 119.96 } },
  { kind: 'break', title: '午餐', why: '午餐时间', travel: leg('walk', 0, 0) },
  { kind: 'event', title: 'The Canal City: Renewing Changzhou', why: 'The Canal City: Renewing Changzhou: on today', travel: leg('walk', 5, 270), location: { lat: 31.81, lng: 119.97 } },
]

describe('the plan timeline', () => {
  it('puts each travel leg before its item, none before a break', () => {
    expect(timelineRows(items).map((r) => r.type + (r.item ? `:${r.item.kind}` : ''))).toEqual([
      'leg', 'item:venue', 'item:break', 'leg', 'item:event',
    ])
  })
  it('books the items with a slot', () => {
    expect(bookable(items).map((i) => i.slot_id)).toEqual([53])
  })
  it('shows the reason without the title, even a title with a colon in it', () => {
    expect(reason(items[0])).toBe('符合你对博物馆的兴趣')
    expect(reason(items[2])).toBe('On today')
  })
  it('numbers the places of the sketch and keeps their travel mode', () => {
    const s = sketchPoints({ start: { lat: 31.78, lng: 119.95 }, items })
    expect(s.stops.map((x) => [x.order, x.mode])).toEqual([[1, 'taxi'], [2, 'walk']])
  })
})

describe('the plan form', () => {
  it('offers half hours from 07:00 to 22:00', () => {
    const times = timeChoices()
    expect(times[0]).toBe('07:00')
    expect(times.at(-1)).toBe('22:00')
    expect(times).toHaveLength(31)
  })
  it('sends a party of at least one and the chosen interests', () => {
    const body = planRequest(
      { date: '2026-12-05', from: '09:00', to: '17:00', start: { lat: 31.7797123, lng: 119.9554321 }, interests: new Set(['museum']), adults: 0, children: 0, seniors: 0, stepFree: true },
      'en',
    )
    expect(body).toEqual({
      date: '2026-12-05',
      start: { lat: 31.77971, lng: 119.95543 },
      start_time: '09:00',
      end_time: '17:00',
      interests: ['museum'],
      party: { adults: 1, children: 0, seniors: 0 },
      step_free: true,
      lang: 'en',
    })
  })
})
