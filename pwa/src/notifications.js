// In-app messages about bookings (GET /api/v1/me/notifications): waitlist promoted, slot closed,
// hold expired. The API has no "mark as read" yet, so which ones were seen is kept on this device,
// per account (the highest id seen).
import { ref, computed } from 'vue'
import { api } from './api'
import { openEventStream } from './composables/useEventStream'
import { readStored, writeStored } from './composables/useLocalStorage'

const SEEN_PREFIX = 'cx.noticesSeen.'
export const notices = ref([])
const seenUpTo = ref(0)
let owner = null

function seenKey() {
  return SEEN_PREFIX + (owner ?? 'anon')
}

function readSeen() {
  return Number(readStored(seenKey(), 0)) || 0
}

export function isNewNotice(n) {
  return !n.read && n.id > seenUpTo.value
}

export const unreadCount = computed(() => notices.value.filter(isNewNotice).length)

/** Load the messages of the logged-in user (`userId` keys what was seen on this device). */
export async function loadNotices(userId) {
  if (userId !== undefined && userId !== owner) {
    owner = userId
    seenUpTo.value = readSeen()
  }
  const list = await api.notifications()
  notices.value = Array.isArray(list) ? list : list?.items || []
  return notices.value
}

/** Everything shown now counts as seen from the next visit on. */
export function markNoticesSeen() {
  const top = notices.value.reduce((m, n) => Math.max(m, n.id || 0), 0)
  if (top <= seenUpTo.value) return
  writeStored(seenKey(), top)
  seenUpTo.value = top
}

export function resetNotices() {
  stopFollowingNotices()
  notices.value = []
  owner = null
  seenUpTo.value = 0
}

// New messages arrive live (GET /api/v1/me/notifications/stream, server-sent events through the
// session cookie). Polling on page visits stays as the fallback.
let stream = null
export function followNotices(userId) {
  if (stream || typeof EventSource === 'undefined') return
  stream = openEventStream('/api/v1/me/notifications/stream', {
    withCredentials: true,
    events: { notification: () => loadNotices(userId).catch(() => {}) },
  })
}

export function stopFollowingNotices() {
  stream?.close()
  stream = null
}
