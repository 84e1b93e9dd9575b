// Markers that would overlap on screen become one cluster marker (tap: zoom in to its members). Greedy, in
// the given order (nearest or most important first), by distance in screen pixels: a point joins the first
// cluster whose first member is within `radius` px, else starts one. O(n·k); maps here show ≤ a few hundred.

/**
 * @param {Array<{id: string, lat: number, lng: number}>} points
 * @param {(lat: number, lng: number) => {x: number, y: number}} project screen pixels at the current zoom
 * @param {number} radius px: two markers closer than this overlap (44 px targets need ~48)
 * @returns {Array<{x: number, y: number, members: Array}>} each cluster's centre (mean of members) and members
 */
export function clusterPoints(points, project, radius = 48) {
  const clusters = []
  for (const p of points) {
    const at = project(p.lat, p.lng)
    let home = null
    for (const c of clusters) {
      const dx = c.ax - at.x
      const dy = c.ay - at.y
      if (dx * dx + dy * dy < radius * radius) {
        home = c
        break
      }
    }
    if (home) {
      home.members.push(p)
      home.sx += at.x
      home.sy += at.y
    } else {
      clusters.push({ ax: at.x, ay: at.y, sx: at.x, sy: at.y, members: [p] })
    }
  }
  return clusters.map((c) => ({ x: c.sx / c.members.length, y: c.sy / c.members.length, members: c.members }))
}

/** The smallest box around points: [[south, west], [north, east]], or null for none. */
export function boundsOf(points) {
  if (!points.length) return null
  let s = 90
  let w = 180
  let n = -90
  let e = -180
  for (const p of points) {
    s = Math.min(s, p.lat)
    n = Math.max(n, p.lat)
    w = Math.min(w, p.lng)
    e = Math.max(e, p.lng)
  }
  return [
    [s, w],
    [n, e],
  ]
}
