// 常用出行人 (saved travellers): kept only in this browser's localStorage, only when the visitor
// turns "remember on this device" on, and never sent anywhere except in a booking they submit.
import { ref } from 'vue'
import { normaliseId } from './idcheck'

const KEY = 'cx.companions'
const MAX = 20

function read() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || '[]')
    return Array.isArray(list)
      ? list.filter((c) => c && typeof c.name === 'string' && typeof c.id_number === 'string' && c.id_type)
      : []
  } catch {
    return []
  }
}

export const companions = ref(read())

function write() {
  try {
    if (companions.value.length) localStorage.setItem(KEY, JSON.stringify(companions.value))
    else localStorage.removeItem(KEY)
  } catch {
    /* storage full or unavailable: they simply are not remembered */
  }
}

export function companionKey(c) {
  return `${c.id_type}:${normaliseId(c.id_number)}`
}

/** Add or update these people (the newest first). */
export function rememberCompanions(people) {
  const list = companions.value.slice()
  for (const p of people) {
    const entry = { name: p.name.trim(), id_type: p.id_type, id_number: normaliseId(p.id_number) }
    const i = list.findIndex((c) => companionKey(c) === companionKey(entry))
    if (i >= 0) list.splice(i, 1)
    list.unshift(entry)
  }
  companions.value = list.slice(0, MAX)
  write()
}

export function forgetCompanion(key) {
  companions.value = companions.value.filter((c) => companionKey(c) !== key)
  write()
}
