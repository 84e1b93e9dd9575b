// The gate's camera: the back camera's stream into a <video>, and a loop that reads a QR code from
// its frames (BarcodeDetector, else zxing-wasm: pass/decoder.js) about seven times a second. The
// camera sees one code many times a second: the same text within `sameCodeMs` is handed on once.
// It stops when the page is hidden and when the component unmounts.
import { ref, nextTick, onMounted, onBeforeUnmount } from 'vue'
import { createDecoder } from '../pass/decoder'

const FRAME_EVERY_MS = 150

/** Why the camera could not start: 'unsupported' | 'denied' | 'missing' | 'error'. */
function reasonOf(err) {
  const name = err?.name
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied'
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'missing'
  return 'error'
}

/**
 * @param {object} o
 * @param {import('vue').Ref<HTMLVideoElement|null>} o.video the element that shows the stream
 * @param {(text: string) => Promise<void>|void} o.onCode called with each new code read
 * @param {import('vue').Ref<boolean>} [o.paused] frames are skipped while this is true (a code being decided)
 * @param {() => string|undefined} [o.prefer] 'zxing' forces the WebAssembly decoder (tests, measurements)
 * @param {number} [o.sameCodeMs]
 */
export function useCameraScanner({ video, onCode, paused = ref(false), prefer = () => undefined, sameCodeMs = 5000 }) {
  const on = ref(false)
  const error = ref('') // a reason from reasonOf, '' when none
  const decoderName = ref('')
  let stream = null
  let decoder = null
  let timer = null
  let last = { text: '', at: 0 }

  async function start() {
    error.value = ''
    if (!navigator.mediaDevices?.getUserMedia) {
      error.value = 'unsupported'
      return
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
    } catch (err) {
      error.value = reasonOf(err)
      return
    }
    on.value = true
    await nextTick()
    video.value.srcObject = stream
    await video.value.play().catch(() => {})
    try {
      decoder = await createDecoder(prefer())
      decoderName.value = decoder.name
    } catch {
      stop()
      error.value = 'error'
      return
    }
    loop()
  }

  async function loop() {
    if (!on.value || !decoder) return
    const el = video.value
    try {
      if (!paused.value && el && el.readyState >= 2) {
        const text = await decoder.decode(el)
        const now = Date.now()
        if (text && !(text === last.text && now - last.at < sameCodeMs)) {
          last = { text, at: now }
          await onCode(text)
        }
      }
    } catch {
      /* a frame it could not read */
    }
    if (on.value) timer = setTimeout(loop, FRAME_EVERY_MS)
  }

  function stop() {
    on.value = false
    clearTimeout(timer)
    stream?.getTracks().forEach((track) => track.stop())
    stream = null
    decoder = null
    if (video.value) video.value.srcObject = null
  }

  function onHidden() {
    if (document.visibilityState === 'hidden' && on.value) stop()
  }
  onMounted(() => document.addEventListener('visibilitychange', onHidden))
  onBeforeUnmount(() => {
    document.removeEventListener('visibilitychange', onHidden)
    stop()
  })

  return { on, error, decoderName, start, stop }
}
