// Seat map geometry and choices, kept out of the component so they can be tested without a browser.
// Seats come from GET /performances/{id}/seats: x runs across the hall (0 = the centre line) and y away
// from the stage, in seat widths; the stage is drawn at the top.

export const ZONE_COLOURS = ['#b4233c', '#d9822b', '#2f7d6d', '#3c64b1', '#7b4fa0', '#8a6d3b']

/** Every seat of the map with its section and row, in map order. */
export function flatten(map) {
  const out = []
  for (const section of map?.sections || []) {
    for (const row of section.rows) {
      for (const seat of row.seats) out.push({ ...seat, row: row.row, section: section.id, sectionName: section.name })
    }
  }
  return out
}

/** The drawing's box, with room for the stage above the first row: {minX, minY, width, height}. */
export function bounds(seats, pad = 1.5) {
  if (!seats.length) return { minX: -10, minY: -4, width: 20, height: 12 }
  let minX = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const s of seats) {
    minX = Math.min(minX, s.x)
    maxX = Math.max(maxX, s.x)
    maxY = Math.max(maxY, s.y)
  }
  const top = -3.6 // the stage
  return { minX: minX - pad, minY: top - pad, width: maxX - minX + 2 * pad, height: maxY - top + 2 * pad }
}

/** A colour for each zone, in the order the performance prices them (dearest first). */
export function zoneColours(priceZones) {
  const out = {}
  ;(priceZones || []).forEach((z, i) => (out[z.zone] = ZONE_COLOURS[i % ZONE_COLOURS.length]))
  return out
}

/** Can this seat be picked now? */
export function pickable(seat) {
  return seat.status === 'free'
}

/** Toggle a seat in the picked list (ids), at most `max` seats. */
export function toggle(picked, seat, max) {
  if (picked.includes(seat.id)) return picked.filter((id) => id !== seat.id)
  if (!pickable(seat) || picked.length >= max) return picked
  return [...picked, seat.id]
}

/** Are the picked seats side by side in one row? (The map lets people pick apart too; this says so.) */
export function adjacent(seats) {
  if (seats.length < 2) return true
  const [first] = seats
  if (!seats.every((s) => s.section === first.section && s.row === first.row)) return false
  const numbers = seats.map((s) => s.number).sort((a, b) => a - b)
  return numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1)
}

/** The picked seats' full price (each seat's zone price). */
export function fullPrice(seats, priceZones) {
  const price = Object.fromEntries((priceZones || []).map((z) => [z.zone, z.price_fen]))
  return seats.reduce((sum, s) => sum + (price[s.zone] || 0), 0)
}

/** A viewBox zoomed by `scale` around the point (cx, cy) of the drawing, kept inside it. */
export function zoomedBox(box, scale, cx, cy) {
  const width = box.width / scale
  const height = box.height / scale
  const minX = Math.min(Math.max(cx - width / 2, box.minX), box.minX + box.width - width)
  const minY = Math.min(Math.max(cy - height / 2, box.minY), box.minY + box.height - height)
  return { minX, minY, width, height }
}
