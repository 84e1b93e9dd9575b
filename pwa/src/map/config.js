// This deployment's basemap and payment mode (GET /api/v1/config), asked once per page load. Offline or on
// an older server, the app falls back to the sketch basemap the server draws itself.
import { apiFetch } from '../api'

export const SKETCH = {
  tiles: '/tiles/{z}/{x}/{y}{r}.png', // {r}: '@2x' (512 px tiles) where the screen has more than 1 px per point
  subdomains: '',
  coords: 'wgs84',
  attribution: '示意底图 Sketch map · 常享',
  min_zoom: 3,
  max_zoom: 18,
  sketch: true,
}

let pending = null

/** {map, payments, phone_sign_in}; never throws (the sketch and "off" when the server can't be asked). */
export function clientConfig() {
  if (!pending) {
    pending = apiFetch('/config').catch(() => {
      pending = null // ask again next time
      return { map: SKETCH, payments: { mode: 'off' }, phone_sign_in: false }
    })
  }
  return pending
}
