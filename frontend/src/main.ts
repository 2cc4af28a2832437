import { createApp, watch } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { makeRouter } from './router'
import { i18n, setI18nLocale } from './i18n'
import { api } from './api'
import { useSession } from './stores/session'
import { useUI } from './stores/ui'
import { notifyError } from './lib/notify'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const session = useSession()
const ui = useUI()
const router = makeRouter()

setI18nLocale(ui.locale)
document.documentElement.lang = ui.locale
watch(
  () => ui.locale,
  (l) => {
    setI18nLocale(l)
    document.documentElement.lang = l
  },
)

api.configure({
  getToken: () => session.token,
  getLang: () => ui.locale,
  networkMessage: () => i18n.global.t('error.network'),
  onUnauthorized: (err) => {
    if (!session.token) return
    session.clear()
    const cur = router.currentRoute.value
    if (cur.name !== 'login') {
      notifyError(err)
      void router.push({ name: 'login', query: cur.fullPath !== '/' ? { next: cur.fullPath } : {} })
    }
  },
})

app.use(i18n)
app.use(router)
app.mount('#app')
