import { describe, expect, it, vi } from 'vitest'
import { ApiError, Client, buildQuery, filenameOf } from '../src/api/client'
import { apiError, fakeServer, json } from './fakeServer'

const rejected = (p: Promise<unknown>): Promise<ApiError> =>
  p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e as ApiError,
  )

function client(server: ReturnType<typeof fakeServer>, token: string | null = 'sm_tok', lang = 'en', onUnauthorized = vi.fn()) {
  return {
    c: new Client({ getToken: () => token, getLang: () => lang, onUnauthorized, fetch: server.fetch, networkMessage: () => 'offline' }),
    onUnauthorized,
  }
}

describe('api client', () => {
  it('sends the bearer token, the language and no cookies', async () => {
    const s = fakeServer({ 'GET /api/v1/me': () => json(200, { user: { id: 1 } }) })
    const { c } = client(s, 'sm_abc', 'zh-Hans')
    const me = await c.get<{ user: { id: number } }>('/api/v1/me')
    expect(me.user.id).toBe(1)
    const r = s.calls[0]
    expect(r.headers.get('Authorization')).toBe('Bearer sm_abc')
    expect(r.headers.get('Accept-Language')).toBe('zh-Hans')
    // ?lang= wins over the account's saved language on the server.
    expect(r.url.searchParams.get('lang')).toBe('zh-Hans')
    expect(r.credentials).toBe('omit')
  })

  it('sends no Authorization header when signed out', async () => {
    const s = fakeServer({ 'POST /api/v1/auth/login': () => json(200, { token: 'sm_new' }) })
    const { c } = client(s, null)
    await c.post('/api/v1/auth/login', { email: 'a@b.c', password: 'x' })
    expect(s.calls[0].headers.has('Authorization')).toBe(false)
    expect(s.calls[0].headers.get('Content-Type')).toBe('application/json')
    expect(JSON.parse(s.calls[0].body!)).toEqual({ email: 'a@b.c', password: 'x' })
  })

  it('builds query strings without empty values', () => {
    expect(buildQuery({ q: 'k8 keyboard', status: '', kind: undefined, page: 2, ids: [3, 4], none: [] })).toBe('?q=k8+keyboard&page=2&ids=3%2C4')
    expect(buildQuery({})).toBe('')
  })

  it('parses errors into code, message and a field map', async () => {
    const s = fakeServer({
      'POST /api/v1/t/acme/products': () =>
        apiError(400, 'invalid_input', 'Some fields are not valid.', {
          name: { code: 'required', message: 'Required.' },
          'skus[0].prices[1].amount': { code: 'must_be_positive', message: 'Must be more than 0.' },
        }),
    })
    const { c, onUnauthorized } = client(s)
    const err = await rejected(c.post('/api/v1/t/acme/products', {}))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(400)
    expect(err.code).toBe('invalid_input')
    expect(err.message).toBe('Some fields are not valid.')
    expect(err.fields).toEqual({ name: 'Required.', 'skus[0].prices[1].amount': 'Must be more than 0.' })
    expect(err.fieldCodes['skus[0].prices[1].amount']).toBe('must_be_positive')
    expect(err.hasFields).toBe(true)
    expect(err.requestId).toBe('req-1')
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('turns a non-JSON failure into an error with the status', async () => {
    const s = fakeServer({ 'GET /api/v1/me': () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html' } }) })
    const err = await rejected(client(s).c.get('/api/v1/me'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(502)
    expect(err.code).toBe('http_502')
    expect(err.hasFields).toBe(false)
  })

  it('reports a 401 on an authenticated call to the sign-out hook', async () => {
    const s = fakeServer({ 'GET /api/v1/me': () => apiError(401, 'session_expired', 'Your session has ended.') })
    const { c, onUnauthorized } = client(s, 'sm_old')
    const err = await rejected(c.get('/api/v1/me'))
    expect(err.code).toBe('session_expired')
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(onUnauthorized.mock.calls[0][0]).toBe(err)
  })

  it('does not treat a wrong password (401 without a token) as an ended session', async () => {
    const s = fakeServer({ 'POST /api/v1/auth/login': () => apiError(401, 'invalid_credentials', 'Wrong email or password.') })
    const { c, onUnauthorized } = client(s, null)
    const err = await rejected(c.post('/api/v1/auth/login', {}))
    expect(err.code).toBe('invalid_credentials')
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('reports an unreachable server as network_error', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    })
    const c = new Client({ getToken: () => 't', getLang: () => 'en', fetch: fetch as unknown as typeof globalThis.fetch, networkMessage: () => 'offline' })
    const err = await rejected(c.get('/api/v1/me'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('network_error')
    expect(err.message).toBe('offline')
  })

  it('answers undefined for 204 and sends raw bodies with their type', async () => {
    const s = fakeServer({
      'DELETE /api/v1/t/acme/members/7': () => new Response(null, { status: 204 }),
      'POST /api/v1/t/acme/products/import': () => json(202, { id: 9, total: 2 }),
    })
    const { c } = client(s)
    expect(await c.del('/api/v1/t/acme/members/7')).toBeUndefined()
    const r = await c.request<{ id: number }>('POST', '/api/v1/t/acme/products/import', { body: 'a,b\n1,2\n', contentType: 'text/csv' })
    expect(r.id).toBe(9)
    expect(s.calls[1].headers.get('Content-Type')).toBe('text/csv')
  })

  it('downloads files with the server’s file name', async () => {
    const s = fakeServer({
      'GET /api/v1/t/acme/products/export': () =>
        new Response('id,name\n1,K8\n', { status: 200, headers: { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="acme-products-2026-11-25.csv"' } }),
    })
    const d = await client(s).c.download('/api/v1/t/acme/products/export', { status: 'active' }, 'fallback.csv')
    expect(d.filename).toBe('acme-products-2026-11-25.csv')
    expect(await d.blob.text()).toContain('K8')
    expect(s.calls[0].url.searchParams.get('status')).toBe('active')
    expect(filenameOf(`attachment; filename*=UTF-8''%E5%95%86%E5%93%81.csv`, 'x')).toBe('商品.csv')
    expect(filenameOf(null, 'x.csv')).toBe('x.csv')
  })
})

describe('platform', () => {
  it('uses the desktop app’s dialogs when its bindings are there', async () => {
    const { saveFile, openFile, toBase64, fromBase64 } = await import('../src/lib/platform')
    const saved: string[][] = []
    const g = globalThis as unknown as { go?: unknown }
    g.go = {
      app: {
        App: {
          SaveFile: async (name: string, b64: string) => {
            saved.push([name, b64])
            return '/home/ada/' + name
          },
          OpenFile: async (_title: string, patterns: string[]) => ({ name: 'in.csv', path: '/tmp/in.csv', size: 4, content: toBase64(new TextEncoder().encode(patterns.join(';'))) }),
        },
      },
    }
    try {
      expect(await saveFile('商品.csv', new Blob(['a,b\n'], { type: 'text/csv' }))).toBe(true)
      expect(saved[0][0]).toBe('商品.csv')
      expect(new TextDecoder().decode(fromBase64(saved[0][1]))).toBe('a,b\n')
      const f = await openFile('.csv,text/csv')
      expect(f?.name).toBe('in.csv')
      expect(await f?.blob.text()).toBe('*.csv')
    } finally {
      delete g.go
    }
  })
})
