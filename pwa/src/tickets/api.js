// The tickets API (issue 18): performances, seat maps and holds, the quote, online shows.
import { apiFetch } from '../api'

const enc = encodeURIComponent

export const ticketsApi = {
  performance: (id, opts) => apiFetch(`/performances/${enc(id)}`, opts),
  seats: (id, opts) => apiFetch(`/performances/${enc(id)}/seats`, opts),
  // {seat_ids} or {count, zone, accessible?} → 201 {hold_id, seats, expires_at, full_price_fen}
  hold: (id, body) => apiFetch(`/performances/${enc(id)}/holds`, { method: 'POST', body }),
  release: (id, holdId) => apiFetch(`/performances/${enc(id)}/holds/${enc(holdId)}`, { method: 'DELETE' }),
  // what POST /reservations would charge, with the rules, entry window and cancellation deadline
  quote: (body, opts) => apiFetch('/tickets/quote', { method: 'POST', body, ...opts }),
  ticketTypes: (slug, opts) => apiFetch(`/venues/${enc(slug)}/ticket-types`, opts),
  shows: (opts) => apiFetch('/shows', opts),
  show: (slug, opts) => apiFetch(`/shows/${enc(slug)}`, opts),
  // signed in: a paid show's stream for ticket holders
  myShow: (slug, opts) => apiFetch(`/me/shows/${enc(slug)}`, opts),
}
