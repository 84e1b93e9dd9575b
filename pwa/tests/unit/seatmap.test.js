// The seat map's geometry and choices (src/tickets/seatmap.js).
import { describe, expect, it } from 'vitest'
import { adjacent, bounds, flatten, fullPrice, toggle, zoneColours, zoomedBox } from '../../src/tickets/seatmap.js'

const map = {
  price_zones: [
    { zone: 'A', price_fen: 18000, remaining: 3 },
    { zone: 'B', price_fen: 12000, remaining: 1 },
  ],
  sections: [
    {
      id: 'stalls',
      name: '池座',
      rows: [
        {
          row: 1,
          seats: [
            { id: 1, number: 1, x: -1, y: 2, zone: 'A', status: 'free', accessible: false },
            { id: 2, number: 2, x: 0, y: 2, zone: 'A', status: 'free', accessible: false },
            { id: 3, number: 3, x: 1, y: 2, zone: 'A', status: 'sold', accessible: false },
          ],
        },
        { row: 2, seats: [{ id: 4, number: 1, x: 0, y: 3.1, zone: 'B', status: 'free', accessible: true }] },
      ],
    },
  ],
}

describe('seat map', () => {
  const seats = flatten(map)

  it('flattens sections and rows, keeping where each seat is', () => {
    expect(seats.map((s) => [s.id, s.row, s.section])).toEqual([
      [1, 1, 'stalls'],
      [2, 1, 'stalls'],
      [3, 1, 'stalls'],
      [4, 2, 'stalls'],
    ])
  })

  it('draws a box with the stage above the first row', () => {
    const box = bounds(seats)
    expect(box.minX).toBeLessThan(-1)
    expect(box.minY).toBeLessThan(-3)
    expect(box.minY + box.height).toBeGreaterThan(3.1)
  })

  it('picks free seats only, up to the limit, and unpicks', () => {
    expect(toggle([], seats[0], 5)).toEqual([1])
    expect(toggle([1], seats[0], 5)).toEqual([])
    expect(toggle([], seats[2], 5)).toEqual([]) // sold
    expect(toggle([1], seats[1], 1)).toEqual([1]) // the limit
  })

  it('tells seats side by side from seats apart', () => {
    expect(adjacent([seats[0], seats[1]])).toBe(true)
    expect(adjacent([seats[0], seats[2]])).toBe(false)
    expect(adjacent([seats[1], seats[3]])).toBe(false)
  })

  it('prices the picked seats by zone and colours zones in order', () => {
    expect(fullPrice([seats[0], seats[3]], map.price_zones)).toBe(30000)
    const colours = zoneColours(map.price_zones)
    expect(Object.keys(colours)).toEqual(['A', 'B'])
    expect(colours.A).not.toBe(colours.B)
  })

  it('zooms around a point without leaving the drawing', () => {
    const box = { minX: 0, minY: 0, width: 100, height: 50 }
    expect(zoomedBox(box, 1, 50, 25)).toEqual(box)
    const z = zoomedBox(box, 2, 0, 0)
    expect(z).toEqual({ minX: 0, minY: 0, width: 50, height: 25 })
    expect(zoomedBox(box, 4, 100, 50)).toEqual({ minX: 75, minY: 37.5, width: 25, height: 12.5 })
  })
})
