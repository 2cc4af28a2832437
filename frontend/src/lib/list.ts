// A paginated list: page, per_page, total, loading and the last error, with
// stale answers ignored (a newer request supersedes an older one).
import { ref, shallowRef } from 'vue'
import type { Page } from '../api/types'
import { notifyError } from './notify'

export function usePagedList<T>(fetch: (page: number, perPage: number) => Promise<Page<T>>, perPage = 20) {
  const items = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const size = ref(perPage)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref('')
  let seq = 0

  async function load() {
    const my = ++seq
    loading.value = true
    error.value = ''
    try {
      const r = await fetch(page.value, size.value)
      if (my !== seq) return
      items.value = r.items
      total.value = r.total
      loaded.value = true
    } catch (e) {
      if (my !== seq) return
      error.value = e instanceof Error ? e.message : String(e)
      notifyError(e)
    } finally {
      if (my === seq) loading.value = false
    }
  }

  /** search goes back to the first page and loads. */
  function search() {
    page.value = 1
    return load()
  }

  return { items, total, page, size, loading, loaded, error, load, search }
}
