// Crowd forecasts, best times and rebooking offers (issue 19; docs/forecast.md).
import { apiFetch } from '../api'

const id = (v) => encodeURIComponent(v)

export const forecastApi = {
  // {venue_slug, generated_at, model, hours: [{starts_at, expected, low, high, capacity, comfort_level, booked}]}
  forecast: (slug, days = 7, opts) => apiFetch(`/venues/${id(slug)}/forecast`, { query: { days }, ...opts }),
  // {venue_slug, date, model, items: [...], peak_level, calm_from}
  bestTimes: (slug, date, opts) => apiFetch(`/venues/${id(slug)}/best-times`, { query: { date }, ...opts }),
  offers: (opts) => apiFetch('/me/offers', opts),
  accept: (offerId, choice) =>
    apiFetch(`/me/offers/${id(offerId)}/accept`, {
      method: 'POST',
      body: { choice: { kind: choice.kind, slot_id: choice.slot_id ?? undefined, venue_slug: choice.venue_slug ?? undefined } },
    }),
}
