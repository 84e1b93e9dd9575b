// The fallback QR decoder for browsers without BarcodeDetector (Chromium on Linux and Windows,
// Firefox, older Safari): zxing-wasm's reader-only build, ZXing-C++ compiled to WebAssembly.
// Why this one: it is maintained (it follows ZXing-C++, the actively developed ZXing, with releases
// through 2025), it reads dense QR codes from live camera frames reliably (rotation, inversion,
// downscaling, low contrast), and the reader build is one ~930 KB .wasm (≈ 350 KB compressed) fetched
// only by gates that need it, never by tourists. jsQR is pure JS and smaller, but has had no release
// since 2021. The .wasm is served from our own origin (not the package's default CDN) and kept by the
// service worker for offline gates.
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader'
import wasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url'

let prepared = null

export function prepare() {
  if (!prepared) {
    prepared = prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) },
      fireImmediately: true,
    })
    prepared.catch(() => (prepared = null))
  }
  return prepared
}

const OPTIONS = { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 }

/** The text of the first QR code in an ImageData, or null. */
export async function decodeImageData(imageData) {
  await prepare()
  const results = await readBarcodes(imageData, OPTIONS)
  const hit = results.find((r) => r.isValid && r.text)
  return hit ? hit.text : null
}

export const wasmAddress = wasmUrl
