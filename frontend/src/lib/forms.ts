// Field errors of a form: set by the console's own checks or from an API
// error's fields (already translated by the server), shown next to each
// el-form-item through :error="errs.get('name')"; anything else is the
// form's general message (errs.general).
import { reactive } from 'vue'
import { ApiError } from '../api/client'
import { i18n } from '../i18n'

export interface FieldErrors {
  fields: Record<string, string>
  general: string
  get(name: string): string
  set(name: string, msg: string): void
  any(): boolean
  clear(): void
  /**
   * fromError shows an error: an API error's field errors by field and its
   * message as the general message; other errors as the general message.
   */
  fromError(e: unknown): void
}

export function useFieldErrors(): FieldErrors {
  const s: FieldErrors = reactive({
    fields: {} as Record<string, string>,
    general: '',
    get(name: string) {
      return s.fields[name] ?? ''
    },
    set(name: string, msg: string) {
      s.fields[name] = msg
    },
    any() {
      return Object.keys(s.fields).length > 0 || !!s.general
    },
    clear() {
      s.fields = {}
      s.general = ''
    },
    fromError(e: unknown) {
      if (e instanceof ApiError) {
        s.fields = { ...e.fields }
        s.general = e.message
      } else {
        s.fields = {}
        s.general = e instanceof Error && e.message ? e.message : i18n.global.t('error.unexpected')
      }
    },
  })
  return s
}
