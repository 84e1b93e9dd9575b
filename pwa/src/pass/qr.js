// The QR for a pass code: uqr (unjs; a port of Nayuki's generator, no dependencies, ~4 KB gzip in
// the pass screen's lazy chunk). Base45 text is all in QR's alphanumeric set, so uqr encodes it in
// alphanumeric mode: a device code (275 characters) is version 10 at error correction M, a server
// code (117) version 6. maxVersion keeps it at most 10 (a larger one would throw rather than grow).
import { encode } from 'uqr'

/** {size, path, version}: an SVG path of the dark modules, in module units, with a 4-module quiet zone. */
export function qrPath(text) {
  const qr = encode(text, { ecc: 'M', boostEcc: false, maxVersion: 10, border: 4 })
  let path = ''
  qr.data.forEach((row, y) => {
    let x = 0
    while (x < row.length) {
      if (!row[x]) {
        x++
        continue
      }
      let end = x
      while (end < row.length && row[end]) end++
      path += `M${x} ${y}h${end - x}v1h${x - end}z`
      x = end
    }
  })
  return { size: qr.size, path, version: qr.version }
}
