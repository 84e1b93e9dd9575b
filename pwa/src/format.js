// Display helpers for venue fields.
import { t, lang } from './i18n'

export function formatPrice(fen) {
  if (fen === null || fen === undefined) return ''
  if (fen === 0) return t('venue.free')
  const yuan = fen / 100
  return t('venue.price', { yuan: Number.isInteger(yuan) ? String(yuan) : yuan.toFixed(2) })
}

/**
 * An amount of money, always with its cents: '¥26.00', '¥520.00' (for totals, payments and refunds).
 * `currency` is the API's ISO code ('CNY', any case); others are shown in the visitor's locale.
 */
export function formatMoney(fen, currency = 'CNY') {
  if (fen === null || fen === undefined || Number.isNaN(Number(fen))) return ''
  const code = String(currency || 'CNY').toUpperCase()
  if (code === 'CNY') return `¥${(Number(fen) / 100).toFixed(2)}`
  return new Intl.NumberFormat(lang.value === 'zh' ? 'zh-CN' : 'en-GB', { style: 'currency', currency: code }).format(
    Number(fen) / 100,
  )
}

export function formatDistance(m) {
  if (m === null || m === undefined) return ''
  if (m < 1000) return `${Math.round(m)} m`
  return `${(m / 1000).toFixed(m < 10000 ? 1 : 0)} km`
}

export function formatNumber(n) {
  if (n === null || n === undefined) return ''
  return new Intl.NumberFormat(lang.value === 'zh' ? 'zh-CN' : 'en-GB').format(n)
}

const DAYS = {
  zh: { Mo: '周一', Tu: '周二', We: '周三', Th: '周四', Fr: '周五', Sa: '周六', Su: '周日' },
  en: { Mo: 'Mon', Tu: 'Tue', We: 'Wed', Th: 'Thu', Fr: 'Fri', Sa: 'Sat', Su: 'Sun' },
}

/**
 * Make an OpenStreetMap opening_hours value readable: "Tu-Su 09:00-17:00; Mo off" becomes
 * "周二至周日 09:00-17:00；周一 闭馆". Anything it does not understand is shown as given.
 */
const GROUNDS = new Set(['park', 'scenic_area', 'resort'])

/** The live status in words: a closed park or scenic area says 已闭园, a closed hall 已闭馆. */
export function statusLabel(status, category) {
  return status === 'closed' && GROUNDS.has(category) ? t('status.closedGrounds') : t(`status.${status}`)
}

export function formatHours(value, category) {
  if (!value || typeof value !== 'string') return t('hours.unknown')
  const zh = lang.value === 'zh'
  const days = DAYS[zh ? 'zh' : 'en']
  if (value.trim() === '24/7') return t('hours.always')
  const rules = value.split(';').map((r) => r.trim()).filter(Boolean)
  const out = []
  for (const rule of rules) {
    if (/^\d{1,2}:\d{2}-\d{1,2}:\d{2}(,\s*\d{1,2}:\d{2}-\d{1,2}:\d{2})*$/.test(rule)) {
      out.push(`${t('hours.daily')} ${rule.replace(/,\s*/g, ', ')}`)
      continue
    }
    const m = rule.match(/^((?:(?:Mo|Tu|We|Th|Fr|Sa|Su|PH)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?,?)+)\s+(.+)$/)
    if (!m) {
      out.push(rule)
      continue
    }
    const dayText = m[1]
      .split(',')
      .filter(Boolean)
      .map((part) => {
        if (part === 'PH') return t('hours.holidays')
        if (part === 'Mo-Su') return t('hours.daily')
        const [a, b] = part.split('-')
        return b ? `${days[a]}${zh ? '至' : '–'}${days[b]}` : days[a]
      })
      .join(zh ? '、' : ', ')
    const closed = m[2] === 'off' || m[2] === 'closed'
    if (closed) out.push(t('hours.closedRule', { days: dayText, closed: t(GROUNDS.has(category) ? 'hours.closedGrounds' : 'hours.closed') }))
    else out.push(`${dayText} ${m[2].replace(/,\s*/g, ', ')}`)
  }
  return out.join(zh ? '；' : '; ')
}

/** AMap marker link. AMap's URI API converts from WGS-84 itself when told coordinate=wgs84. */
export function amapMarkerUrl(venue) {
  const { lat, lng } = venue.location || {}
  if (typeof lat !== 'number' || typeof lng !== 'number') return ''
  const name = encodeURIComponent(venue.name || '')
  return `https://uri.amap.com/marker?position=${lng},${lat}&name=${name}&coordinate=wgs84&src=changxiang&callnative=1`
}

/**
 * What an event costs, in fen: `{ low, high }`, from its performances' price zones when it sells tickets
 * (`GET /events/{slug}` `ticketing`), else its listed price for both.
 */
export function eventPriceRange(ev) {
  const zones = (ev?.ticketing?.performances ?? []).flatMap((p) => p.price_zones.map((z) => z.price_fen))
  if (!zones.length) return { low: ev?.price_fen ?? 0, high: ev?.price_fen ?? 0 }
  return { low: Math.min(...zones), high: Math.max(...zones) }
}

/** An event's price as its page says it: free, one price, or "¥120 起" / "from ¥120" when zones differ. */
export function eventPriceText(ev) {
  const { low, high } = eventPriceRange(ev)
  if (high === 0) return t('events.free')
  return low < high ? t('tickets.from', { price: formatPrice(low) }) : formatPrice(low)
}
