import { createI18n } from 'vue-i18n'
import en from './en'
import zhHans from './zh-Hans'
import type { Locale } from '../api/types'

export type Messages = typeof en

export function makeI18n(locale: Locale) {
  return createI18n<[Messages], Locale>({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: { en, 'zh-Hans': zhHans },
    // Dates and numbers are formatted with Intl directly (lib/format.ts).
    missingWarn: false,
    fallbackWarn: false,
  })
}

export const i18n = makeI18n('en')

/** setI18nLocale switches the console's messages. */
export function setI18nLocale(l: Locale) {
  ;(i18n.global.locale as unknown as { value: Locale }).value = l
}
