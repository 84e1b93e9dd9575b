// A ref kept in localStorage under `key`: read once, written back on every change. JSON by default;
// `text` keeps a plain string (settings that tests and older builds wrote as such), `flag` a '1'/'0'.
// A serializer's write may answer null to remove the key. Storage that is full, blocked or holds
// something unreadable leaves the ref at its initial value: the app works on, it only forgets.
import { ref, watch } from 'vue'

export const json = { read: (s) => JSON.parse(s), write: (v) => JSON.stringify(v) }
export const text = { read: (s) => s, write: (v) => String(v ?? '') }
export const flag = { read: (s) => s === '1', write: (v) => (v ? '1' : '0') }

function storage() {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null // a browser that refuses storage throws on the mere access
  }
}

export function readStored(key, initial, serializer = json) {
  try {
    const raw = storage()?.getItem(key)
    if (raw === null || raw === undefined) return initial
    const value = serializer.read(raw)
    return value === undefined ? initial : value
  } catch {
    return initial
  }
}

export function writeStored(key, value, serializer = json) {
  try {
    const raw = serializer.write(value)
    if (raw === null) storage()?.removeItem(key)
    else storage()?.setItem(key, raw)
  } catch {
    /* storage full or unavailable: the value is simply not remembered */
  }
}

/**
 * @param {string} key
 * @param {*} initial what the ref holds when nothing (readable) is stored
 * @param {{serializer?: {read: (s: string) => *, write: (v: *) => string|null}}} [options]
 */
export function useLocalStorage(key, initial, { serializer = json } = {}) {
  const value = ref(readStored(key, initial, serializer))
  watch(value, (v) => writeStored(key, v, serializer), { deep: true, flush: 'sync' })
  return value
}
