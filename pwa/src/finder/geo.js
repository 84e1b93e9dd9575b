// Finder (/nearby) helpers: WGS-84 → GCJ-02, distances, the schematic map's projection and the
// hand-off links to map apps. We keep WGS-84 everywhere and convert only for Apple Maps, which
// draws mainland China in GCJ-02 (port of integrations/coords/__init__.py).

const A = 6378245.0
const EE = 0.006693421622965943 // 0.00669342162296594323, as a double holds it

export function inChina(lat, lng) {
  return lat >= 0.8293 && lat <= 55.8271 && lng >= 72.004 && lng <= 137.8347
}

function dLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0
  return r
}

function dLng(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0
  return r
}

/** WGS-84 → GCJ-02 ([lat, lng]); unchanged outside mainland China. */
export function wgs84ToGcj02(lat, lng) {
  if (!inChina(lat, lng)) return [lat, lng]
  let la = dLat(lng - 105.0, lat - 35.0)
  let ln = dLng(lng - 105.0, lat - 35.0)
  const rad = (lat / 180.0) * Math.PI
  const magic = 1 - EE * Math.sin(rad) ** 2
  const sq = Math.sqrt(magic)
  la = (la * 180.0) / (((A * (1 - EE)) / (magic * sq)) * Math.PI)
  ln = (ln * 180.0) / ((A / sq) * Math.cos(rad) * Math.PI)
  return [lat + la, lng + ln]
}

// Changzhou city centre (Nandajie / 南大街), the fallback when the position is unknown
export const CITY_CENTRE = { lat: 31.7795, lng: 119.9561 }

const R = 6371008.8

/** Local equirectangular offset of `p` from `origin` in metres: {x: east, y: north}. */
export function offsetMetres(origin, p) {
  const rad = Math.PI / 180
  return {
    x: (p.lng - origin.lng) * rad * Math.cos(origin.lat * rad) * R,
    y: (p.lat - origin.lat) * rad * R,
  }
}

/** Walking minutes at 75 m a minute, at least 1. */
export function walkMinutes(m) {
  return Math.max(1, Math.round(m / 75))
}

/** A "nice" scale-bar length (1, 2, 5 × 10^n metres) no longer than `max` metres. */
export function niceLength(max) {
  if (!(max > 0)) return 100
  const p = 10 ** Math.floor(Math.log10(max))
  for (const f of [5, 2, 1]) if (f * p <= max) return f * p
  return p
}

const f6 = (n) => Number(n).toFixed(6)

/** Links that open a place in map apps: [{app, href}]. */
export function mapLinks({ lat, lng }, name) {
  const q = encodeURIComponent(name || '')
  const [glat, glng] = wgs84ToGcj02(lat, lng)
  return [
    { app: 'amap', href: `https://uri.amap.com/marker?position=${f6(lng)},${f6(lat)}&name=${q}&coordinate=wgs84&callnative=1` },
    {
      app: 'baidu',
      href: `https://api.map.baidu.com/marker?location=${f6(lat)},${f6(lng)}&title=${q}&content=${q}&output=html&coord_type=wgs84`,
    },
    { app: 'apple', href: `https://maps.apple.com/?ll=${f6(glat)},${f6(glng)}&q=${q}` },
    { app: 'google', href: `https://www.google.com/maps/search/?api=1&query=${f6(lat)},${f6(lng)}` },
  ]
}
