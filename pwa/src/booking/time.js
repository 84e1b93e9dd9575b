// Dates and times of slots and bookings, always shown in the city's zone (Asia/Shanghai),
// whatever zone the phone is set to.
import { t, lang } from '../i18n'

export const CITY_TZ = 'Asia/Shanghai'

const cache = new Map()
function fmt(locale, options) {
  const key = `${locale}|${JSON.stringify(options)}`
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(locale, options))
  return cache.get(key)
}
const locale = () => (lang.value === 'zh' ? 'zh-CN' : 'en-GB')

/** 'YYYY-MM-DD' of `when` (default: now) in the city. */
export function cityDate(when = new Date()) {
  const parts = fmt('en-CA', { timeZone: CITY_TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(when),
  )
  const get = (type) => parts.find((p) => p.type === type)?.value
  return `${get('year')}-${get('month')}-${get('day')}`
}

/** A calendar date plus n days, as 'YYYY-MM-DD'. */
export function addDays(iso, n) {
  const [y, m, d] = iso.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}

function utcNoon(iso) {
  const [y, m, d] = iso.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d, 12))
}

/** Weekday and short date of a calendar date, for the day strip: {weekday: '周二', date: '11/24'}. */
export function dayLabel(iso, today = cityDate()) {
  const d = utcNoon(iso)
  let weekday
  if (iso === today) weekday = t('slots.today')
  else if (iso === addDays(today, 1)) weekday = t('slots.tomorrow')
  else weekday = fmt(locale(), { timeZone: 'UTC', weekday: 'short' }).format(d)
  const date =
    lang.value === 'zh'
      ? `${d.getUTCMonth() + 1}/${d.getUTCDate()}`
      : fmt('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' }).format(d)
  return { weekday, date }
}

/** A full, readable date: '11月24日 周二' / 'Tue 24 Nov'. Takes 'YYYY-MM-DD' or a date-time. */
export function formatDay(value) {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value) ? utcNoon(value) : new Date(value)
  const tz = /^\d{4}-\d{2}-\d{2}$/.test(value) ? 'UTC' : CITY_TZ
  if (lang.value === 'zh') {
    const md = fmt('zh-CN', { timeZone: tz, month: 'long', day: 'numeric' }).format(d)
    const wd = fmt('zh-CN', { timeZone: tz, weekday: 'short' }).format(d)
    return `${md} ${wd}`
  }
  return fmt('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short' }).format(d)
}

/** '09:00' in the city. */
export function formatTime(value) {
  return fmt('en-GB', { timeZone: CITY_TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(value),
  )
}

/** '09:00–10:00' */
export function formatRange(start, end) {
  return `${formatTime(start)}–${formatTime(end)}`
}

/** '11月24日 周二 12:30' / 'Tue 24 Nov, 12:30' */
export function formatDateTime(value) {
  return lang.value === 'zh' ? `${formatDay(value)} ${formatTime(value)}` : `${formatDay(value)}, ${formatTime(value)}`
}

/** 'mm:ss' (or 'h:mm:ss') left until `until`; '' once it has passed. */
export function countdown(until, now = Date.now()) {
  const s = Math.max(0, Math.floor((new Date(until).getTime() - now) / 1000))
  if (!s) return ''
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${String(m).padStart(2, '0')}:${sec}`
}

/** '1 人' / '1 person', '3 人' / '3 people' */
export function partyLabel(n) {
  return t(n === 1 ? 'book.partyOne' : 'book.party', { n })
}
