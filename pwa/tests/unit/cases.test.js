import { describe, expect, it } from 'vitest'
import { isHandler, mapHref, minutesLeft, nextMoves, shortTime, statusTag, telHref, upsertCase } from '../../src/cases/format'
import strings from '../../src/i18n/cases.js'

describe('help screens', () => {
  it('calls venues by their listed numbers', () => {
    expect(telHref('0519-85165089')).toBe('tel:051985165089')
    expect(telHref('400-188-0005')).toBe('tel:4001880005')
    expect(telHref('')).toBe('')
  })

  it('offers the moves of the graph to the right people', () => {
    expect(nextMoves('open', { handler: true })).toEqual(['acknowledged', 'escalated'])
    expect(nextMoves('acknowledged', { handler: true })).toEqual(['resolved', 'escalated'])
    expect(nextMoves('open', { mine: true })).toEqual([])
    expect(nextMoves('resolved', { mine: true })).toEqual(['closed'])
    expect(nextMoves('closed', { handler: true })).toEqual([])
  })

  it('knows handlers, statuses, deadlines and times in the city', () => {
    expect(isHandler({ roles: ['staff'] })).toBe(true)
    expect(isHandler({ roles: ['tourist'] })).toBe(false)
    expect(statusTag('escalated')).toBe('danger')
    expect(minutesLeft('2026-12-03T10:30:00+08:00', Date.parse('2026-12-03T10:00:00+08:00'))).toBe(30)
    expect(shortTime('2026-12-03T02:05:00Z')).toBe('12-03 10:05')
    expect(mapHref({ lat: 31.8, lng: 119.9 })).toContain('position=119.9,31.8')
    expect(upsertCase([{ id: 'a' }, { id: 'b' }], { id: 'b', x: 1 })).toEqual([{ id: 'b', x: 1 }, { id: 'a' }])
  })

  it('says everything in both languages', () => {
    expect(Object.keys(strings.en).sort()).toEqual(Object.keys(strings.zh).sort())
  })
})
