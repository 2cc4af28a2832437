// The console's language (en or zh-Hans), kept in localStorage.
import { defineStore } from 'pinia'
import type { Locale } from '../api/types'

export const LANG_KEY = 'saasmall.console.lang'
export const LOCALES: Locale[] = ['en', 'zh-Hans']

/** matchLocale maps a BCP 47 tag (zh-CN, zh-Hans-SG, en-GB…) to a console language. */
export function matchLocale(tag: string | null | undefined): Locale | null {
  if (!tag) return null
  const t = tag.toLowerCase()
  if (t === 'zh' || t.startsWith('zh-hans') || t === 'zh-cn' || t === 'zh-sg' || t.startsWith('zh-cn') || t.startsWith('zh-sg')) return 'zh-Hans'
  if (t.startsWith('en')) return 'en'
  return null
}

function initialLocale(): Locale {
  try {
    const saved = matchLocale(globalThis.localStorage?.getItem(LANG_KEY))
    if (saved) return saved
  } catch {
    /* no storage */
  }
  const nav = globalThis.navigator
  for (const l of nav?.languages ?? [nav?.language]) {
    const m = matchLocale(l)
    if (m) return m
  }
  return 'en'
}

export const useUI = defineStore('ui', {
  state: () => ({ locale: initialLocale() as Locale }),
  actions: {
    setLocale(l: Locale) {
      this.locale = l
      try {
        globalThis.localStorage?.setItem(LANG_KEY, l)
      } catch {
        /* no storage */
      }
    },
  },
})
