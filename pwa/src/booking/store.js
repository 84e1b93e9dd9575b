// Bookings: states, a small cache of venue names for booking cards, and the answer of the last
// booking (so the confirmation screen shows at once, without waiting for a second request).
import { reactive } from 'vue'
import { api } from '../api'
import { lang } from '../i18n'

export const ACTIVE = ['confirmed', 'pending_payment', 'waitlisted']
export const MAX_VISITORS = 5

export function isActive(r) {
  return ACTIVE.includes(r?.status)
}

/** Still to come: active and its slot has not ended. */
export function isUpcoming(r, now = Date.now()) {
  return isActive(r) && new Date(r.slot?.ends_at).getTime() > now
}

export function canCancel(r, now = Date.now()) {
  if (!isActive(r) || new Date(r.slot?.ends_at).getTime() <= now) return false
  return !r.cancel_deadline || new Date(r.cancel_deadline).getTime() >= now
}

// ---- venue names ("常州博物馆") for booking cards, per language; names are public, so they
// may be kept in localStorage

const NAMES_KEY = 'cx.venueNames'
const names = reactive(readNames())
const pending = new Map()

function readNames() {
  try {
    const v = JSON.parse(localStorage.getItem(NAMES_KEY) || '{}')
    return v && typeof v === 'object' ? v : {}
  } catch {
    return {}
  }
}

export function venueName(slug) {
  return names[`${lang.value}:${slug}`] || ''
}

/** The name in whichever language this phone has one (offline, a name beats a slug). */
export function venueNameAnyLanguage(slug) {
  return names[`zh:${slug}`] || names[`en:${slug}`] || ''
}

export async function loadVenueName(slug) {
  const key = `${lang.value}:${slug}`
  if (!slug || names[key]) return names[key]
  if (!pending.has(key)) {
    pending.set(
      key,
      api
        .venue(slug)
        .then((v) => {
          if (v?.name) rememberVenueName(slug, v.name)
          return v?.name
        })
        .catch(() => '')
        .finally(() => pending.delete(key)),
    )
  }
  return pending.get(key)
}

export function rememberVenueName(slug, name) {
  const key = `${lang.value}:${slug}`
  if (!slug || !name || names[key] === name) return
  names[key] = name
  try {
    localStorage.setItem(NAMES_KEY, JSON.stringify(names))
  } catch {
    /* ignore */
  }
}

// ---- the last booking answers (POST /reservations → 201), by id

const fresh = new Map()
const FRESH_MS = 2 * 60 * 1000
export function keepFresh(reservation) {
  if (reservation?.id) fresh.set(reservation.id, { at: Date.now(), reservation })
}
export function takeFresh(id) {
  const hit = fresh.get(id)
  fresh.delete(id)
  return hit && Date.now() - hit.at < FRESH_MS ? hit.reservation : null
}
