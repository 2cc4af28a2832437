// Hash routing (/console/#/orders): the server serves one index.html, and
// the same build runs at the root of the desktop app's window.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from './stores/session'
import { SCREENS, allowedScreens, screenAllowed } from './screens'
import Layout from './views/Layout.vue'
import SignIn from './views/SignIn.vue'

const views: Record<string, () => Promise<unknown>> = {
  dashboard: () => import('./views/Dashboard.vue'),
  products: () => import('./views/Products.vue'),
  orders: () => import('./views/Orders.vue'),
  stock: () => import('./views/Stock.vue'),
  warehouses: () => import('./views/Warehouses.vue'),
  transfers: () => import('./views/Transfers.vue'),
  counts: () => import('./views/Counts.vue'),
  purchasing: () => import('./views/Purchasing.vue'),
  suppliers: () => import('./views/Suppliers.vue'),
  members: () => import('./views/Members.vue'),
  roles: () => import('./views/Roles.vue'),
  grants: () => import('./views/Grants.vue'),
  audit: () => import('./views/Audit.vue'),
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: SignIn, meta: { public: true } },
  {
    path: '/',
    component: Layout,
    children: [
      { path: '', name: 'home', component: () => import('./views/NoAccess.vue') },
      ...SCREENS.map((s) => ({ path: s.path.slice(1), name: s.name, component: views[s.name], meta: { screen: s.name } })),
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
]

export function makeRouter() {
  const router = createRouter({ history: createWebHashHistory(), routes })
  router.beforeEach(async (to) => {
    const session = useSession()
    if (to.meta.public) {
      return session.signedIn && session.me && to.name === 'login' ? { path: '/' } : true
    }
    if (!session.signedIn) {
      return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    }
    if (!session.me) {
      try {
        await session.loadMe()
      } catch {
        // A 401 cleared the session (api hook); anything else: sign in again.
        session.clear()
        return { name: 'login', query: { next: to.fullPath } }
      }
    }
    const allowed = allowedScreens(session.permSet)
    const screen = SCREENS.find((s) => s.name === to.meta.screen)
    if (to.name === 'home' || (screen && !screenAllowed(screen, session.permSet))) {
      // The first screen the member may use, else the "no access" page.
      if (allowed.length) return allowed[0].name === to.name ? true : { name: allowed[0].name }
      return to.name === 'home' ? true : { name: 'home' }
    }
    return true
  })
  return router
}
