// The search and guide endpoints (docs/search.md), through the app's HTTP client.
import { apiFetch } from '../api'

export const searchApi = {
  search: (query, opts) => apiFetch('/search', { query, ...opts }),
  ask: (body, opts) => apiFetch('/guide/ask', { method: 'POST', body, ...opts }),
}
