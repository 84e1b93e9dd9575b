// The cases API (help, complaints, SOS; docs/cases.md) and the upload of a photo (multipart).
import { ref, watch } from 'vue'
import { api, apiFetch, API_BASE, ApiError } from '../api'
import { lang } from '../i18n'

const id = (v) => encodeURIComponent(v)

export const casesApi = {
  file: (body) => apiFetch('/cases', { method: 'POST', body }),
  list: (query, opts) => apiFetch('/cases', { query, ...opts }),
  get: (caseId, opts) => apiFetch(`/cases/${id(caseId)}`, opts),
  reply: (caseId, body) => apiFetch(`/cases/${id(caseId)}/messages`, { method: 'POST', body }),
  move: (caseId, to, note) =>
    apiFetch(`/cases/${id(caseId)}/transition`, { method: 'POST', body: note ? { to, note } : { to } }),
  rate: (caseId, stars, comment) =>
    apiFetch(`/cases/${id(caseId)}/rating`, { method: 'POST', body: comment ? { stars, comment } : { stars } }),
  locate: (caseId, location) => apiFetch(`/cases/${id(caseId)}/location`, { method: 'POST', body: location }),
  contact: (caseId) => apiFetch(`/cases/${id(caseId)}/contact`, { method: 'POST' }),
  summary: (opts) => apiFetch('/cases/summary', opts),
  streamUrl: () => `${API_BASE}/cases/stream?lang=${lang.value}`,
}

/** POST /uploads with one file (the field `file`): 201 {id, url, content_type, bytes, kind}. */
export async function uploadFile(file) {
  const form = new FormData()
  form.append('file', file, file.name || 'photo.jpg')
  const headers = { Accept: 'application/json' }
  try {
    const token = sessionStorage.getItem('cx.token')
    if (token) headers.Authorization = `Bearer ${token}`
  } catch {
    /* ignore */
  }
  let res
  try {
    res = await fetch(`${API_BASE}/uploads?lang=${lang.value}`, {
      method: 'POST',
      body: form,
      headers,
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiError({ status: 0, code: 'network_error' })
  }
  const data = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError({ status: res.status, code: data?.code || `http_${res.status}`, detail: data?.detail || '', problem: data })
  return data
}

/** The phone's position as the API takes it, or null when it can't be had within `timeoutMs`. */
export function currentPosition(timeoutMs = 8000) {
  return new Promise((resolve) => {
    if (typeof navigator === 'undefined' || !navigator.geolocation) return resolve(null)
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(toLocation(p)),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30_000 },
    )
  })
}

export function toLocation(p) {
  const { latitude, longitude, accuracy } = p.coords
  const loc = { lat: Math.round(latitude * 1e6) / 1e6, lng: Math.round(longitude * 1e6) / 1e6 }
  if (Number.isFinite(accuracy)) loc.accuracy_m = Math.min(100000, Math.round(accuracy))
  return loc
}

// venue names by slug, for a case's "handled by" (fetched once per language)

export const venueNames = ref({})
let namesLang = ''

export function loadVenueNames() {
  if (namesLang === lang.value) return
  namesLang = lang.value
  api
    .venues({ limit: 200 })
    .then((page) => (venueNames.value = Object.fromEntries((page.items || []).map((v) => [v.slug, v.name]))))
    .catch(() => (namesLang = ''))
}
watch(lang, () => Object.keys(venueNames.value).length && loadVenueNames())
