// The location-aware guide: which stop comes next and how far it is, from the visitor's position.

const R = 6371008.8
export const ARRIVE_M = 30 // within this many metres a stop counts as reached

/** Great-circle distance in metres (haversine; within 0.5 % of the geodesic at city scale). */
export function metresBetween(a, b) {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLng = (b.lng - a.lng) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)))
}

/**
 * Given the stops, the orders already reached and a position: the stop just arrived at (if any, and
 * not yet reached before), and the next stop to walk to with its distance.
 */
export function guideStep(stops, reached, here) {
  let arrived = null
  for (const stop of stops) {
    if (!reached.has(stop.order) && metresBetween(here, stop.poi.location) <= ARRIVE_M) {
      arrived = stop
      break
    }
  }
  const done = new Set(reached)
  if (arrived) done.add(arrived.order)
  const last = Math.max(0, ...done)
  const next = stops.find((s) => s.order > last && !done.has(s.order)) || null
  return { arrived, next, distance: next ? metresBetween(here, next.poi.location) : null }
}
