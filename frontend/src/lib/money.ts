// Money is integer minor units plus an ISO 4217 code in the API; forms show
// major units. Conversions go through decimal strings, never float
// arithmetic on amounts (0.1 + 0.2 style errors), and use the currency's own
// number of decimals (JPY 0, USD 2, KWD 3).

const digitsCache = new Map<string, number>()

export function currencyDigits(currency: string): number {
  const c = (currency || 'USD').toUpperCase()
  let d = digitsCache.get(c)
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency: c }).resolvedOptions().maximumFractionDigits ?? 2
    } catch {
      d = 2
    }
    digitsCache.set(c, d)
  }
  return d
}

/** toMinor converts a major-unit amount (a number or "12.34") to minor units. */
export function toMinor(major: number | string, currency: string): number {
  const digits = currencyDigits(currency)
  const s = typeof major === 'number' ? major.toFixed(digits) : String(major).trim()
  const m = /^(-)?(\d*)(?:\.(\d*))?$/.exec(s)
  if (!m) return NaN
  const frac = (m[3] || '').padEnd(digits, '0')
  // Round half-even on the digit after the currency's precision.
  let units = BigInt((m[2] || '0') + frac.slice(0, digits))
  const rest = frac.slice(digits)
  if (rest && (rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || units % 2n === 1n)))) units += 1n
  const n = Number(units)
  return m[1] ? -n : n
}

/** toMajor converts minor units to a major-unit number for a form field. */
export function toMajor(minor: number, currency: string): number {
  const digits = currencyDigits(currency)
  return minor / 10 ** digits
}

export function formatMoney(minor: number | undefined | null, currency: string, locale = 'en'): string {
  if (minor === undefined || minor === null || Number.isNaN(minor)) return '—'
  const digits = currencyDigits(currency)
  try {
    return new Intl.NumberFormat(locale === 'zh-Hans' ? 'zh-CN' : 'en-US', {
      style: 'currency',
      currency: currency.toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(minor / 10 ** digits)
  } catch {
    return (minor / 10 ** digits).toFixed(digits) + ' ' + currency
  }
}
