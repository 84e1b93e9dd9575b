// Server-sent events: one wrapper around EventSource for every live screen. The browser reconnects
// by itself after a dropped connection; when it gives up (the stream answered an error), this tries
// again after a pause that grows to a minute, until closed.
import { ref, watch, getCurrentScope, onScopeDispose, isRef, computed } from 'vue'

const FIRST_RETRY_MS = 2000
const LAST_RETRY_MS = 60_000

/**
 * Open `url` and call `events[name](data, event)` for each named event, with the data parsed as
 * JSON (the raw text when it is not JSON). Returns {close, connected}.
 * @param {string} url
 * @param {{events?: Record<string, Function>, withCredentials?: boolean, onOpen?: Function, onError?: Function}} [options]
 */
export function openEventStream(url, { events = {}, withCredentials = false, onOpen, onError } = {}) {
  const connected = ref(false)
  let source = null
  let retry = null
  let pause = FIRST_RETRY_MS
  let closed = false

  function connect() {
    retry = null
    source = new EventSource(url, { withCredentials })
    source.addEventListener('open', () => {
      pause = FIRST_RETRY_MS
      connected.value = true
      onOpen?.()
    })
    source.addEventListener('error', (e) => {
      connected.value = false
      onError?.(e)
      if (source.readyState === EventSource.CLOSED && !closed) {
        source = null
        retry = setTimeout(connect, pause)
        pause = Math.min(pause * 2, LAST_RETRY_MS)
      }
    })
    for (const [name, handle] of Object.entries(events)) {
      source.addEventListener(name, (e) => {
        let data = e.data
        try {
          data = JSON.parse(e.data)
        } catch {
          /* not JSON: the text as it came */
        }
        handle(data, e)
      })
    }
  }

  function close() {
    closed = true
    clearTimeout(retry)
    source?.close()
    source = null
    connected.value = false
  }

  if (typeof EventSource === 'undefined') closed = true
  else connect()
  return { close, connected }
}

/**
 * The stream at `url` (a ref or a getter; null or '' means none) while the component lives: it
 * reopens when the address changes and closes when the component unmounts.
 * @returns {{connected: import('vue').Ref<boolean>, close: () => void}}
 */
export function useEventStream(url, options = {}) {
  const address = isRef(url) ? url : computed(url)
  const connected = ref(false)
  let stream = null
  let stopMirror = null

  function close() {
    stopMirror?.()
    stream?.close()
    stream = null
    connected.value = false
  }
  watch(
    address,
    (next) => {
      close()
      if (!next) return
      stream = openEventStream(next, options)
      stopMirror = watch(stream.connected, (on) => (connected.value = on), { immediate: true, flush: 'sync' })
    },
    { immediate: true },
  )
  if (getCurrentScope()) onScopeDispose(close) // a component's scope ends when it unmounts
  return { connected, close }
}
