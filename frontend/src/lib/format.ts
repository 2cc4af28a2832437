import type { Locale } from '../api/types'

const intlTag = (l: string) => (l === 'zh-Hans' ? 'zh-CN' : 'en-GB')

export function formatDateTime(iso: string | undefined | null, locale: Locale | string): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(intlTag(locale), {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).format(d)
}

export function formatDate(iso: string | undefined | null, locale: Locale | string): string {
  if (!iso) return '—'
  const d = new Date(iso.length === 10 ? iso + 'T00:00:00Z' : iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(intlTag(locale), { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: iso.length === 10 ? 'UTC' : undefined }).format(d)
}

export function formatNumber(n: number | undefined | null, locale: Locale | string): string {
  if (n === undefined || n === null) return '—'
  return new Intl.NumberFormat(intlTag(locale)).format(n)
}

/** formatPercent shows a 0…1 ratio as a percentage. */
export function formatPercent(r: number | undefined | null, locale: Locale | string): string {
  if (r === undefined || r === null || Number.isNaN(r)) return '—'
  return new Intl.NumberFormat(intlTag(locale), { style: 'percent', maximumFractionDigits: 1 }).format(r)
}

/** isoDay is YYYY-MM-DD of a Date in UTC. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10)
}
