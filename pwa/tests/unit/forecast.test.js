import { describe, expect, it } from 'vitest'
import { chartBars, calmestHour, forecastDays, hoursOfDay, slotLevel } from '../../src/forecast/hours.js'

const hour = (iso, expected, level, capacity = 100) => ({
  starts_at: iso,
  expected,
  low: Math.floor(expected * 0.8),
  high: Math.ceil(expected * 1.2),
  capacity,
  comfort_level: level,
})

const day = [
  hour('2026-10-02T09:00:00+08:00', 20, 'comfortable'),
  hour('2026-10-02T10:00:00+08:00', 75, 'normal'),
  hour('2026-10-02T11:00:00+08:00', 85, 'fairly_crowded'),
  hour('2026-10-02T15:00:00+08:00', 40, 'comfortable'),
  hour('2026-10-03T09:00:00+08:00', 10, 'comfortable'),
]

describe('forecast hours', () => {
  it('groups hours by the city day', () => {
    expect(forecastDays(day)).toEqual(['2026-10-02', '2026-10-03'])
    expect(hoursOfDay(day, '2026-10-02')).toHaveLength(4)
  })

  it('gives a slot the worst level of the hours it overlaps', () => {
    const slot = { starts_at: '2026-10-02T10:30:00+08:00', ends_at: '2026-10-02T11:30:00+08:00' }
    expect(slotLevel(day, slot)).toBe('fairly_crowded')
    expect(slotLevel(day, { starts_at: '2026-10-02T15:00:00+08:00', ends_at: '2026-10-02T16:00:00+08:00' })).toBe(
      'comfortable',
    )
    expect(slotLevel(day, { starts_at: '2026-10-04T09:00:00+08:00', ends_at: '2026-10-04T10:00:00+08:00' })).toBeNull()
  })

  it('scales bars to the day and finds its calmest hour', () => {
    const bars = chartBars(hoursOfDay(day, '2026-10-02'))
    expect(Math.max(...bars.map((b) => b.highShare))).toBe(1)
    expect(bars.every((b) => b.lowShare <= b.expectedShare && b.expectedShare <= b.highShare)).toBe(true)
    expect(calmestHour(hoursOfDay(day, '2026-10-02')).starts_at).toBe('2026-10-02T09:00:00+08:00')
  })
})
