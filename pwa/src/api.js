// The HTTP client for /api/v1: adds ?lang=, sends the session cookie, and turns
// RFC 9457 problem+json answers into ApiError.
import { lang } from './i18n'

export const API_BASE = '/api/v1'
const TOKEN_KEY = 'cx.token'

export class ApiError extends Error {
  constructor({ status = 0, code = 'network_error', title = '', detail = '', type = '', errors = [], problem = null } = {}) {
    super(detail || title || code)
    this.status = status
    this.code = code
    this.title = title
    this.detail = detail
    this.type = type
    // the offending fields of a 400, e.g. [{field: 'visitors[0].id_number', message}]
    this.errors = Array.isArray(errors) ? errors : []
    // the whole problem body, for codes that carry more (plan_booking_failed: item, slug, reason)
    this.problem = problem
  }
}

// The server sets an HttpOnly cookie at login; the bearer token is kept for this tab only
// (sessionStorage) as a second path, never in localStorage.
let token = null
try {
  token = sessionStorage.getItem(TOKEN_KEY)
} catch {
  /* ignore */
}

export function setToken(value) {
  token = value || null
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token)
    else sessionStorage.removeItem(TOKEN_KEY)
  } catch {
    /* ignore */
  }
}

export function hasToken() {
  return !!token
}

function buildUrl(path, query) {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
  }
  if (!params.has('lang')) params.set('lang', lang.value)
  return `${API_BASE}${path}?${params.toString()}`
}

/** A random UUID (v4), also where crypto.randomUUID is missing (plain-http LAN addresses). */
export function uuid() {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export async function apiFetch(path, { method = 'GET', query, body, signal, headers: extra } = {}) {
  const headers = { Accept: 'application/json', ...(extra || {}) }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  let res
  try {
    res = await fetch(buildUrl(path, query), {
      method,
      headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
      signal,
    })
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw new ApiError({ status: 0, code: 'network_error' })
  }
  const type = res.headers.get('content-type') || ''
  let data = null
  if (res.status !== 204 && type.includes('json')) {
    try {
      data = await res.json()
    } catch {
      data = null
    }
  }
  if (!res.ok) {
    throw new ApiError({
      status: res.status,
      code: data?.code || `http_${res.status}`,
      title: data?.title || res.statusText,
      detail: data?.detail || '',
      type: data?.type || '',
      errors: data?.errors,
      problem: data,
    })
  }
  return data
}

export const api = {
  venues: (query, opts) => apiFetch('/venues', { query, ...opts }),
  venue: (slug, opts) => apiFetch(`/venues/${encodeURIComponent(slug)}`, opts),
  login: (body) => apiFetch('/auth/login', { method: 'POST', body }),
  register: (body) => apiFetch('/auth/register', { method: 'POST', body }),
  logout: () => apiFetch('/auth/logout', { method: 'POST' }),
  me: () => apiFetch('/me'),
  slots: (slug, date, opts) => apiFetch(`/venues/${encodeURIComponent(slug)}/slots`, { query: { date }, ...opts }),
  // Idempotency-Key: one per form submission, sent again on a retry of the same submission
  book: (body, idempotencyKey) =>
    apiFetch('/reservations', { method: 'POST', body, headers: { 'Idempotency-Key': idempotencyKey } }),
  reservations: (query, opts) => apiFetch('/reservations', { query, ...opts }),
  reservation: (id, opts) => apiFetch(`/reservations/${encodeURIComponent(id)}`, opts),
  // Stripe Checkout for a booking held for payment: 200 {checkout_url, session_id, expires_at}
  checkout: (id) => apiFetch(`/reservations/${encodeURIComponent(id)}/checkout`, { method: 'POST' }),
  cancelReservation: (id) => apiFetch(`/reservations/${encodeURIComponent(id)}/cancel`, { method: 'POST' }),
  notifications: (opts) => apiFetch('/me/notifications', opts),
  // the finder: nearest toilets / chargers / car parks (near=LAT,LNG is required)
  amenities: (query, opts) => apiFetch('/amenities', { query, ...opts }),
  tours: (query, opts) => apiFetch('/tours', { query, ...opts }),
  tour: (slug, opts) => apiFetch(`/tours/${encodeURIComponent(slug)}`, opts),
  poi: (id, opts) => apiFetch(`/pois/${encodeURIComponent(id)}`, opts),
  exhibitions: (query, opts) => apiFetch('/exhibitions', { query, ...opts }),
  exhibition: (slug, opts) => apiFetch(`/exhibitions/${encodeURIComponent(slug)}`, opts),
  // supervision (governance, admin): live occupancy and comfort level of every venue
  govOccupancy: (opts) => apiFetch('/gov/occupancy', opts),
  govPeaks: (query, opts) => apiFetch('/gov/forecast/peaks', { query, ...opts }),
  // the event calendar, articles, the holder's calendar link and the marketers' flow (issue 6)
  events: (query, opts) => apiFetch('/events', { query, ...opts }),
  event: (slug, query, opts) => apiFetch(`/events/${encodeURIComponent(slug)}`, { query, ...opts }),
  articles: (query, opts) => apiFetch('/articles', { query, ...opts }),
  article: (slug, opts) => apiFetch(`/articles/${encodeURIComponent(slug)}`, opts),
  calendarStatus: () => apiFetch('/me/calendar'),
  calendarRotate: () => apiFetch('/me/calendar/token', { method: 'POST' }),
  // editors' picks: the published lists, each item as a card in the reader's language
  featured: (query, opts) => apiFetch('/featured', { query, ...opts }),
  adminItems: (kind, query) => apiFetch(`/admin/${kind}`, { query }),
  adminTransition: (kind, id, body) => apiFetch(`/admin/${kind}/${id}/transition`, { method: 'POST', body }),
}

/** The .ics address of the public calendar with the same filters (for "add to calendar"). */
export function eventsIcsUrl(query) {
  return buildUrl('/events.ics', query)
}
