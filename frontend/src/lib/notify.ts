// Messages and confirmations (Element Plus services, imported on demand with
// their styles).
import { ElMessage, ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import { ApiError } from '../api/client'
import { i18n } from '../i18n'

const t = (k: string, a?: Record<string, unknown>) => (a ? i18n.global.t(k, a) : i18n.global.t(k))

/** notifyError shows an error's message (translated by the server for API errors). */
export function notifyError(e: unknown) {
  if (e instanceof DOMException && e.name === 'AbortError') return
  let msg = t('error.unexpected')
  if (e instanceof ApiError) {
    msg = e.message
    // Field errors of a screen without that field: show them too.
    const fields = Object.entries(e.fields)
    if (fields.length) msg += ' — ' + fields.map(([k, v]) => `${k}: ${v}`).join('; ')
  } else if (e instanceof Error && e.message) {
    msg = e.message
  }
  ElMessage({ type: 'error', message: msg, grouping: true, showClose: true, duration: 6000 })
}

export function notifyOK(message: string) {
  ElMessage({ type: 'success', message, grouping: true, duration: 2500 })
}

/**
 * confirmDanger asks before a destructive action; resolves true to go ahead.
 */
export async function confirmDanger(message: string, title = t('confirm.title'), ok = t('confirm.ok')): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, {
      type: 'warning',
      confirmButtonText: ok,
      cancelButtonText: t('common.cancel'),
      confirmButtonClass: 'el-button--danger',
      customClass: 'confirm-box',
      autofocus: false,
    })
    return true
  } catch {
    return false
  }
}
