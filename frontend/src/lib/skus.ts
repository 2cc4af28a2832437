// The stock APIs name SKUs by id only: their codes and names come from the
// tenant's goods, read page by page (newest first) until every SKU asked
// about is known, and from product searches for pickers.
import { computed, ref } from 'vue'
import { products, type ProductView } from '../api'
import { useSession } from '../stores/session'
import { notifyError } from './notify'

export type SkuInfo = { code: string; name: string; product: string }

const MAX_PAGES = 50

export function useSkuCatalog() {
  const session = useSession()
  const info = ref(new Map<number, SkuInfo>())
  const found = ref<ProductView[]>([]) // products of the last search
  let nextPage = 1
  let lastPage = Infinity

  function remember(ps: ProductView[]) {
    const m = new Map(info.value)
    for (const p of ps) for (const s of p.skus) m.set(s.id, { code: s.code, name: s.name, product: p.name })
    info.value = m
  }

  /** ensure loads goods until every id is known (or the pages run out). */
  async function ensure(ids: number[]) {
    try {
      while (ids.some((id) => !info.value.has(id)) && nextPage <= Math.min(lastPage, MAX_PAGES)) {
        const pages = Array.from({ length: 4 }, (_, i) => nextPage + i).filter((p) => p <= Math.min(lastPage, MAX_PAGES))
        nextPage += pages.length
        const rs = await Promise.all(pages.map((page) => products.list(session.tenant, { kind: 'goods', page, per_page: 100 })))
        lastPage = Math.max(1, Math.ceil(rs[0].total / 100))
        remember(rs.flatMap((r) => r.items))
      }
    } catch {
      // Members with warehouse but no mall permission see SKU ids only.
    }
  }

  /** search finds goods for a picker. */
  async function search(q: string) {
    try {
      const r = await products.list(session.tenant, { kind: 'goods', q, per_page: 20 })
      found.value = r.items
      remember(r.items)
    } catch (e) {
      notifyError(e)
    }
  }

  const code = (id: number) => info.value.get(id)?.code ?? '#' + id
  const label = (id: number) => {
    const s = info.value.get(id)
    return s ? `${s.code} — ${s.product} / ${s.name}` : '#' + id
  }
  /** options are the active SKUs of the search, plus the ids keep returns
   * (a picker's current value, even when the search no longer lists it). */
  const options = (keep: () => (number | undefined)[] = () => []) =>
    computed(() => {
      const opts = found.value.flatMap((p) => p.skus.filter((s) => s.active).map((s) => ({ id: s.id, label: `${s.code} — ${p.name} / ${s.name}` })))
      for (const id of keep()) if (id && !opts.some((o) => o.id === id)) opts.unshift({ id, label: label(id) })
      return opts
    })

  return { info, found, remember, ensure, search, code, label, options }
}
