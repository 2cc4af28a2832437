import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { api } from '../src/api'
import { useSession, TOKEN_KEY, TENANT_KEY } from '../src/stores/session'
import { useUI, LANG_KEY, matchLocale } from '../src/stores/ui'
import { apiError, fakeServer, json, type Handler } from './fakeServer'

const me = (memberships: unknown[]) => ({
  user: { id: 7, email: 'ada@acme.test', name: 'Ada', locale: '', platform_operator: false },
  memberships, client_source: 'pc', session: { id: 1, client_source: 'pc', created_at: '2026-11-25T09:00:00Z' },
})
const acme = { tenant: { id: 1, slug: 'acme', name: 'Acme' }, roles: ['admin'] }
const beta = { tenant: { id: 2, slug: 'beta', name: 'Beta' }, roles: ['accountant'] }
const all = ['mall', 'docking', 'warehouse', 'logistics', 'finance', 'admin'].flatMap((object) => ['read', 'write', 'approve'].map((action) => ({ object, action })))

function setup(routes: Record<string, Handler>) {
  const s = fakeServer(routes)
  const session = useSession()
  api.configure({ fetch: s.fetch, getToken: () => session.token, getLang: () => 'en', onUnauthorized: () => session.clear() })
  return { s, session }
}

const forbidden = () => apiError(403, 'forbidden', 'You may not do that.')

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})

describe('session store', () => {
  it('signs in, keeps the token and picks the first tenant with its permissions', async () => {
    const { s, session } = setup({
      'POST /api/v1/auth/login': () => json(200, { token: 'sm_tok', csrf_token: 'c', user: { id: 7 } }),
      'GET /api/v1/me': () => json(200, me([acme, beta])),
      'GET /api/v1/t/acme/roles': () => json(200, { items: [{ name: 'admin', description: '', builtin: true, permissions: all, members: 1 }] }),
      'GET /api/v1/t/acme/policies': () => json(200, { items: [] }),
    })
    await session.login('ada@acme.test', 'pw')
    expect(session.token).toBe('sm_tok')
    expect(localStorage.getItem(TOKEN_KEY)).toBe('sm_tok')
    expect(session.tenant).toBe('acme')
    expect(localStorage.getItem(TENANT_KEY)).toBe('acme')
    expect(session.permSource).toBe('roles')
    expect(session.can('admin', 'write')).toBe(true)
    // Every call after sign-in carries the token.
    expect(s.calls.filter((c) => c.url.pathname !== '/api/v1/auth/login').every((c) => c.headers.get('Authorization') === 'Bearer sm_tok')).toBe(true)
  })

  it('switches tenant and finds permissions by probing when roles are not readable', async () => {
    const { s, session } = setup({
      'GET /api/v1/me': () => json(200, me([acme, beta])),
      'GET /api/v1/t/acme/roles': () => json(200, { items: [{ name: 'admin', description: '', builtin: true, permissions: all, members: 1 }] }),
      'GET /api/v1/t/acme/policies': () => json(200, { items: [] }),
      'GET /api/v1/t/beta/roles': forbidden,
      'GET /api/v1/t/beta/policies': forbidden,
      'GET /api/v1/t/beta/products': () => json(200, { items: [], total: 0, page: 1, per_page: 1 }),
      'GET /api/v1/t/beta/warehouses': forbidden,
    })
    session.setToken('sm_tok')
    await session.loadMe()
    expect(session.tenant).toBe('acme')
    await session.switchTenant('beta')
    expect(session.tenant).toBe('beta')
    expect(localStorage.getItem(TENANT_KEY)).toBe('beta')
    expect(session.membership?.tenant.name).toBe('Beta')
    expect(session.permSource).toBe('probe')
    expect(session.can('mall')).toBe(true)
    expect(session.can('warehouse')).toBe(false)
    expect(session.can('admin')).toBe(false)
    // accountant's template: finance write (for the confirm-payment button).
    expect(session.can('finance', 'write')).toBe(true)
    expect(s.calls.some((c) => c.url.pathname === '/api/v1/t/beta/products' && c.url.searchParams.get('per_page') === '1')).toBe(true)
    await expect(session.switchTenant('nope')).rejects.toThrow()
    expect(session.tenant).toBe('beta')
  })

  it('uses the permissions GET /me lists when the server sends them', async () => {
    const { s, session } = setup({
      'GET /api/v1/me': () => json(200, me([{ ...beta, permissions: [{ object: 'warehouse', action: 'read' }] }])),
    })
    session.setToken('sm_tok')
    await session.loadMe()
    expect(session.permSource).toBe('me')
    expect(session.perms).toEqual(['warehouse:read'])
    expect(s.calls).toHaveLength(1)
  })

  it('keeps the saved tenant when still a member, else falls back', async () => {
    localStorage.setItem(TENANT_KEY, 'beta')
    setActivePinia(createPinia())
    const { session } = setup({
      'GET /api/v1/me': () => json(200, me([acme])),
      'GET /api/v1/t/acme/roles': () => json(200, { items: [] }),
      'GET /api/v1/t/acme/policies': () => json(200, { items: [] }),
    })
    expect(session.tenant).toBe('beta')
    session.setToken('sm_tok')
    await session.loadMe()
    expect(session.tenant).toBe('acme')
  })

  it('signs out on the server and forgets the session', async () => {
    const { s, session } = setup({ 'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }) })
    session.setToken('sm_tok')
    await session.logout()
    expect(s.calls[0].headers.get('Authorization')).toBe('Bearer sm_tok')
    expect(session.token).toBeNull()
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('forgets the session when the server says it ended (401)', async () => {
    const { session } = setup({ 'GET /api/v1/me': () => apiError(401, 'session_expired', 'Your session has ended.') })
    session.setToken('sm_old')
    await expect(session.loadMe()).rejects.toMatchObject({ status: 401 })
    expect(session.token).toBeNull()
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('restores the token from localStorage', () => {
    localStorage.setItem(TOKEN_KEY, 'sm_saved')
    setActivePinia(createPinia())
    expect(useSession().signedIn).toBe(true)
  })
})

describe('ui store', () => {
  it('matches languages and remembers the choice', () => {
    expect(matchLocale('zh-CN')).toBe('zh-Hans')
    expect(matchLocale('zh-Hans-SG')).toBe('zh-Hans')
    expect(matchLocale('en-GB')).toBe('en')
    expect(matchLocale('fr')).toBeNull()
    const ui = useUI()
    ui.setLocale('zh-Hans')
    expect(localStorage.getItem(LANG_KEY)).toBe('zh-Hans')
    setActivePinia(createPinia())
    expect(useUI().locale).toBe('zh-Hans')
  })
})
