// The product editor's form model and its conversion to and from the API:
// prices in major units in the form, integer minor units in the API.
import type { Interval, Kind, ProductInput, ProductStatus, ProductView, SKUInput, Tier } from '../api/types'
import { toMajor, toMinor } from './money'

export interface PriceForm {
  currency: string
  /** Major units (12.5 = 12.50 USD); undefined while empty. */
  amount: number | undefined
}

export interface SkuForm {
  id?: number
  code: string
  name: string
  prices: PriceForm[]
  weight_grams?: number
  hs_code: string
  origin_country: string
  tier: Tier
  interval: Interval
  per_seat: boolean
  trial_days: number
  /** One feature per line. */
  features: string
}

export interface ProductForm {
  id?: number
  kind: Kind
  name: string
  summary: string
  description: string
  category: string
  image_url: string
  status: ProductStatus
  attributes: { key: string; value: string }[]
  skus: SkuForm[]
}

export function newSku(kind: Kind, currencies: string[] = ['USD']): SkuForm {
  return {
    code: '', name: '', prices: currencies.map((c) => ({ currency: c, amount: undefined })),
    weight_grams: undefined, hs_code: '', origin_country: '',
    tier: kind === 'saas' ? 'paid' : 'paid', interval: 'month', per_seat: true, trial_days: 0, features: '',
  }
}

export function newProduct(kind: Kind = 'goods', currencies: string[] = ['USD']): ProductForm {
  return { kind, name: '', summary: '', description: '', category: '', image_url: '', status: 'draft', attributes: [], skus: [newSku(kind, currencies)] }
}

export function formFromView(p: ProductView): ProductForm {
  return {
    id: p.id, kind: p.kind, name: p.name, summary: p.summary, description: p.description, category: p.category,
    image_url: p.image_url, status: p.status, attributes: p.attributes.map((a) => ({ ...a })),
    skus: p.skus.filter((s) => s.active).map((s) => ({
      id: s.id, code: s.code, name: s.name,
      prices: s.prices.map((m) => ({ currency: m.currency, amount: toMajor(m.amount, m.currency) })),
      weight_grams: s.weight_grams, hs_code: s.hs_code ?? '', origin_country: s.origin_country ?? '',
      tier: s.plan?.tier ?? 'paid', interval: s.plan?.interval ?? 'month', per_seat: s.plan?.per_seat ?? false,
      trial_days: s.plan?.trial_days ?? 0, features: (s.plan?.features ?? []).join('\n'),
    })),
  }
}

export function skuInput(kind: Kind, s: SkuForm): SKUInput {
  const out: SKUInput = {
    code: s.code.trim(), name: s.name.trim(),
    prices: s.prices.map((p) => ({ currency: p.currency.trim().toUpperCase(), amount: p.amount === undefined || p.amount === null ? 0 : toMinor(p.amount, p.currency) })),
  }
  if (s.id) out.id = s.id
  if (kind === 'goods') {
    if (s.weight_grams) out.weight_grams = s.weight_grams
    out.hs_code = s.hs_code.trim()
    out.origin_country = s.origin_country.trim().toUpperCase()
  } else {
    out.plan = {
      tier: s.tier, interval: s.interval, per_seat: s.per_seat, trial_days: s.trial_days || 0,
      features: s.features.split('\n').map((f) => f.trim()).filter(Boolean),
    }
  }
  return out
}

/** productInput is the body of POST /products (and, without kind, of PATCH). */
export function productInput(f: ProductForm): ProductInput {
  return {
    ...(f.id ? {} : { kind: f.kind }),
    name: f.name.trim(), summary: f.summary.trim(), description: f.description, category: f.category.trim(),
    image_url: f.image_url.trim(), status: f.status,
    attributes: f.attributes.map((a) => ({ key: a.key.trim(), value: a.value.trim() })),
    skus: f.skus.map((s) => skuInput(f.kind, s)),
  }
}
