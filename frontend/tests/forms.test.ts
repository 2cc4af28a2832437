import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from '../src/i18n/en'
import zhHans from '../src/i18n/zh-Hans'
import { formatMoney, toMajor, toMinor } from '../src/lib/money'
import { formFromView, newProduct, newSku, productInput } from '../src/lib/productForm'
import { useFieldErrors } from '../src/lib/forms'
import { ApiError } from '../src/api/client'
import type { ProductView } from '../src/api/types'

describe('money', () => {
  it('converts major to minor units per currency without float errors', () => {
    expect(toMinor(12.34, 'USD')).toBe(1234)
    expect(toMinor(0.1 + 0.2, 'USD')).toBe(30)
    expect(toMinor('19.99', 'CNY')).toBe(1999)
    expect(toMinor(1500, 'JPY')).toBe(1500)
    expect(toMinor('1.005', 'USD')).toBe(100) // half-even
    expect(toMinor('1.015', 'USD')).toBe(102)
    expect(toMinor('abc', 'USD')).toBeNaN()
    expect(toMajor(8900, 'USD')).toBe(89)
    expect(toMajor(8900, 'JPY')).toBe(8900)
    expect(formatMoney(8900, 'USD', 'en')).toBe('$89.00')
    expect(formatMoney(59900, 'CNY', 'zh-Hans')).toBe('¥599.00')
  })
})

describe('product form', () => {
  it('sends prices in minor units, goods fields for goods and plans for SaaS', () => {
    const f = newProduct('goods', ['USD', 'CNY'])
    f.name = ' Desk lamp '
    f.skus[0] = { ...f.skus[0], code: 'LAMP-W', name: 'White', prices: [{ currency: 'USD', amount: 24.5 }, { currency: 'cny', amount: 169 }], origin_country: 'cn', weight_grams: 800 }
    f.skus.push({ ...newSku('goods', ['USD']), code: 'LAMP-B', name: 'Black', prices: [{ currency: 'USD', amount: 26 }] })
    const body = productInput(f)
    expect(body.kind).toBe('goods')
    expect(body.name).toBe('Desk lamp')
    expect(body.skus).toHaveLength(2)
    expect(body.skus[0].prices).toEqual([{ currency: 'USD', amount: 2450 }, { currency: 'CNY', amount: 16900 }])
    expect(body.skus[0].origin_country).toBe('CN')
    expect(body.skus[0].plan).toBeUndefined()

    const s = newProduct('saas')
    s.name = 'Wiki'
    s.skus[0] = { ...s.skus[0], code: 'WIKI', name: 'Team', prices: [{ currency: 'USD', amount: 8 }], features: 'Pages\n\n Search ', trial_days: 14 }
    const sb = productInput(s)
    expect(sb.skus[0].plan).toEqual({ tier: 'paid', interval: 'month', per_seat: true, trial_days: 14, features: ['Pages', 'Search'] })
    expect(sb.skus[0].hs_code).toBeUndefined()
  })

  it('edits an existing product: no kind, SKU ids kept, inactive SKUs left out', () => {
    const v: ProductView = {
      id: 5, kind: 'goods', name: 'K8', summary: '', description: '', category: 'Keyboards', image_url: '', status: 'active',
      attributes: [{ key: 'Color', value: 'Grey' }], store: { slug: 'gearhub', name: 'GearHub' }, sales_count: 0,
      created_at: '', updated_at: '',
      skus: [
        { id: 10, code: 'K8-BRN', name: 'Brown', active: true, prices: [{ amount: 8900, currency: 'USD' }], weight_grams: 950 },
        { id: 11, code: 'K8-OLD', name: 'Old', active: false, prices: [{ amount: 100, currency: 'USD' }] },
      ],
    }
    const f = formFromView(v)
    expect(f.skus).toHaveLength(1)
    expect(f.skus[0].prices[0].amount).toBe(89)
    const body = productInput(f)
    expect(body.kind).toBeUndefined()
    expect(body.skus[0]).toMatchObject({ id: 10, code: 'K8-BRN', prices: [{ currency: 'USD', amount: 8900 }], weight_grams: 950 })
  })

  it('shows API field errors by field and the message as the general error', () => {
    const errs = useFieldErrors()
    errs.fromError(new ApiError(400, 'invalid_input', 'Check the fields.', { 'skus[1].code': { code: 'sku_code_taken', message: 'Taken.' } }))
    expect(errs.get('skus[1].code')).toBe('Taken.')
    expect(errs.get('name')).toBe('')
    expect(errs.general).toBe('Check the fields.')
    errs.clear()
    expect(errs.any()).toBe(false)
  })
})

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, prefix + k + '.') : [prefix + k]))
}

describe('i18n', () => {
  it('has every message in both languages, and every message compiles', () => {
    expect(keys(zhHans).sort()).toEqual(keys(en).sort())
    const i18n = createI18n({ legacy: false, locale: 'en', messages: { en, 'zh-Hans': zhHans } })
    for (const loc of ['en', 'zh-Hans'] as const) {
      i18n.global.locale.value = loc
      for (const k of keys(en)) {
        const out = i18n.global.t(k, { name: 'N', n: 2, s: 9, number: 'SM1', total: '$1', status: 'S', available: 3, who: 'W', perm: 'P' })
        expect(out, `${loc} ${k}`).not.toBe(k)
        expect(out, `${loc} ${k}`).not.toMatch(/\{[a-z]+\}/)
      }
    }
  })
})
