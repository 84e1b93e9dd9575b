// Positions are WGS-84 everywhere in the API; AMap-style Chinese tiles draw in GCJ-02, so a map on such tiles
// moves each position by the GCJ-02 transform at this edge (finder/geo.js, a port of integrations/coords).
import { wgs84ToGcj02 } from '../finder/geo'

/** A WGS-84 position as the map's tiles draw it: unchanged, or GCJ-02 for AMap-style Chinese tiles. */
export function toMapDatum(lat, lng, coords) {
  return coords === 'gcj02' ? wgs84ToGcj02(lat, lng) : [lat, lng]
}
