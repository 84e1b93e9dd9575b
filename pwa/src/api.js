// The HTTP client for /api/v1: adds ?lang=, sends the session cookie, and turns
// RFC 9457 problem+json answers into ApiError.
import { lang } from './i18n'

export const API_BASE = '/api/v1'
const TOKEN_KEY = 'cx.token'

export class ApiError extends Error {
  constructor({ status = 0, code = 'network_error', title = '', detail = '', type = '' } = {}) {
    super(detail || title || code)
    this.status = status
    this.code = code
    this.title = title
    this.detail = detail
    this.type = type
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

export async function apiFetch(path, { method = 'GET', query, body, signal } = {}) {
  const headers = { Accept: 'application/json' }
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
}
