// Reading QR codes from the camera: the browser's own BarcodeDetector where it has one (Android
// Chrome, Safari 17+), else zxing-wasm (zxing.js, loaded on demand).

const MAX_SIDE = 720 // frames are scaled down to this before the WebAssembly decoder sees them

async function nativeDetector() {
  if (typeof window === 'undefined' || !('BarcodeDetector' in window)) return null
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats()
    if (!formats.includes('qr_code')) return null
    return new window.BarcodeDetector({ formats: ['qr_code'] })
  } catch {
    return null
  }
}

/**
 * A decoder for video frames: {name, decode(video) → Promise<string|null>}.
 * `prefer` ('native' | 'zxing') is for tests and measurements.
 */
export async function createDecoder(prefer) {
  const native = prefer === 'zxing' ? null : await nativeDetector()
  if (native) {
    return {
      name: 'BarcodeDetector',
      async decode(source) {
        const found = await native.detect(source)
        return found.find((b) => b.rawValue)?.rawValue || null
      },
    }
  }
  const zx = await import('./zxing.js')
  await zx.prepare()
  let canvas = null
  let ctx = null
  return {
    name: 'zxing-wasm',
    async decode(video) {
      const w = video.videoWidth
      const h = video.videoHeight
      if (!w || !h) return null
      const scale = Math.min(1, MAX_SIDE / Math.max(w, h))
      const cw = Math.round(w * scale)
      const ch = Math.round(h * scale)
      if (!canvas) {
        canvas = document.createElement('canvas')
        ctx = canvas.getContext('2d', { willReadFrequently: true })
      }
      if (canvas.width !== cw || canvas.height !== ch) {
        canvas.width = cw
        canvas.height = ch
      }
      ctx.drawImage(video, 0, 0, cw, ch)
      return zx.decodeImageData(ctx.getImageData(0, 0, cw, ch))
    },
  }
}

/** Whether the WebAssembly decoder will be needed here (so the screen can fetch it while online). */
export async function needsFallback() {
  return !(await nativeDetector())
}

/** Fetch (not compile) the fallback decoder now, so that the service worker keeps it for offline use. */
export async function warmFallback() {
  const { wasmAddress } = await import('./zxing.js')
  const res = await fetch(wasmAddress, { credentials: 'same-origin' })
  await res.arrayBuffer()
}
