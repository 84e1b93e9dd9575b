// The day planner's calls: compose (no account needed), read, book all at once, and the .ics address.
import { apiFetch, API_BASE } from '../api'

export const planApi = {
  create: (body) => apiFetch('/plans', { method: 'POST', body }),
  get: (id, opts) => apiFetch(`/plans/${encodeURIComponent(id)}`, opts),
  drop: (id, index) => apiFetch(`/plans/${encodeURIComponent(id)}/drop`, { method: 'POST', body: { index } }),
  bookAll: (id, visitors) => apiFetch(`/plans/${encodeURIComponent(id)}/book`, { method: 'POST', body: { visitors } }),
}

/** "Add to calendar": the plan as an RFC 5545 file. */
export function planIcsUrl(id) {
  return `${API_BASE}/plans/${encodeURIComponent(id)}.ics`
}
