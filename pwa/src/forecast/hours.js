// Pure helpers over the forecast's hours (GET /venues/{slug}/forecast), unit-tested (no DOM, no i18n).

const CITY_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })

/** 'YYYY-MM-DD' of an instant in the city (Asia/Shanghai). */
export function cityDate(value) {
  return CITY_DAY.format(new Date(value))
}

export const LEVELS = ['comfortable', 'fairly_comfortable', 'normal', 'fairly_crowded', 'crowded', 'full']
const rank = (level) => Math.max(0, LEVELS.indexOf(level))

/** The hours of one city day ('YYYY-MM-DD'). */
export function hoursOfDay(hours, day) {
  return (hours || []).filter((h) => cityDate(h.starts_at) === day)
}

/** The days the forecast covers, in order. */
export function forecastDays(hours) {
  return [...new Set((hours || []).map((h) => cityDate(h.starts_at)))]
}

/** The worst expected level over the hours a slot overlaps (null when the forecast has none of them). */
export function slotLevel(hours, slot) {
  const start = new Date(slot.starts_at).getTime()
  const end = new Date(slot.ends_at).getTime()
  let worst = null
  for (const h of hours || []) {
    const at = new Date(h.starts_at).getTime()
    if (at < end && at + 3600_000 > start && (worst === null || rank(h.comfort_level) > rank(worst))) {
      worst = h.comfort_level
    }
  }
  return worst
}

/** The bar heights of a day's chart (0..1): expected and high against the day's top (at least a tenth
 *  of capacity, so a quiet day does not look full). */
export function chartBars(hours) {
  const top = Math.max(1, ...hours.map((h) => Math.max(h.high, h.expected)), ...hours.map((h) => (h.capacity || 0) / 10))
  return hours.map((h) => ({
    ...h,
    expectedShare: Math.min(1, h.expected / top),
    highShare: Math.min(1, Math.max(h.high, h.expected) / top),
    lowShare: Math.min(1, h.low / top),
  }))
}

/** The calmest hour of the day (lowest expected share of capacity; earliest on a tie). */
export function calmestHour(hours) {
  let best = null
  for (const h of hours || []) {
    const share = h.capacity ? h.expected / h.capacity : Infinity
    if (best === null || share < best.share) best = { share, hour: h }
  }
  return best?.hour || null
}
