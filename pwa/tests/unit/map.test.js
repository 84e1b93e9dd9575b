import { describe, expect, it } from 'vitest'
import { clusterPoints, boundsOf } from '../../src/map/clusters.js'
import { toMapDatum } from '../../src/map/datum.js'

// a flat projection: 1° = 1000 px
const project = (lat, lng) => ({ x: lng * 1000, y: -lat * 1000 })

describe('clusterPoints', () => {
  it('keeps markers apart when they do not overlap', () => {
    const pts = [
      { id: 'a', lat: 0, lng: 0 },
      { id: 'b', lat: 0, lng: 0.1 },
    ]
    const out = clusterPoints(pts, project, 48)
    expect(out.map((c) => c.members.map((m) => m.id))).toEqual([['a'], ['b']])
  })

  it('gathers markers closer than a tap target into one cluster at their mean', () => {
    const pts = [
      { id: 'a', lat: 0, lng: 0 },
      { id: 'b', lat: 0, lng: 0.02 },
      { id: 'c', lat: 0, lng: 0.04 },
      { id: 'd', lat: 0, lng: 0.2 },
    ]
    const out = clusterPoints(pts, project, 48)
    expect(out.map((c) => c.members.length)).toEqual([3, 1])
    expect(out[0].x).toBeCloseTo(20)
    expect(out.reduce((n, c) => n + c.members.length, 0)).toBe(4) // nobody lost
  })

  it('bounds every point', () => {
    expect(boundsOf([])).toBeNull()
    expect(
      boundsOf([
        { lat: 31.7, lng: 119.9 },
        { lat: 31.8, lng: 120.1 },
      ]),
    ).toEqual([
      [31.7, 119.9],
      [31.8, 120.1],
    ])
  })
})

describe('toMapDatum', () => {
  it('leaves WGS-84 tiles alone and shifts to GCJ-02 as integrations/coords does', () => {
    expect(toMapDatum(31.7795, 119.9561, 'wgs84')).toEqual([31.7795, 119.9561])
    // integrations.coords.wgs84_to_gcj02(31.7795, 119.9561), by the Python reference
    const [lat, lng] = toMapDatum(31.7795, 119.9561, 'gcj02')
    expect(lat).toBeCloseTo(31.777419, 5)
    expect(lng).toBeCloseTo(119.96081, 5)
  })
})
