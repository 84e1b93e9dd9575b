// 常用出行人 (saved travellers): kept only in this browser's localStorage, only when the visitor
// turns "remember on this device" on, and never sent anywhere except in a booking they submit.
import { normaliseId } from './idcheck'
import { useLocalStorage } from '../composables/useLocalStorage'

const MAX = 20

// storage full or unavailable: they simply are not remembered; the last one forgotten removes the key
export const companions = useLocalStorage('cx.companions', [], {
  serializer: {
    read(raw) {
      const list = JSON.parse(raw)
      return Array.isArray(list)
        ? list.filter((c) => c && typeof c.name === 'string' && typeof c.id_number === 'string' && c.id_type)
        : []
    },
    write: (list) => (list.length ? JSON.stringify(list) : null),
  },
})

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
}

export function forgetCompanion(key) {
  companions.value = companions.value.filter((c) => companionKey(c) !== key)
}
