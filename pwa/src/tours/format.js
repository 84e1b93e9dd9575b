import { t } from '../i18n'

/** "约 1 小时 30 分钟" / "About 1 h 30 min". */
export function formatDuration(min) {
  const h = Math.floor(min / 60)
  const m = min % 60
  if (!h) return t('tours.minutes', { n: m })
  if (!m) return t('tours.hours', { h })
  return t('tours.hoursMinutes', { h, m })
}
