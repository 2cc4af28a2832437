// A fake API for the unit tests: routes "METHOD /path" to handlers and
// records every request.
import { vi } from 'vitest'

export interface Recorded {
  method: string
  url: URL
  headers: Headers
  body: string | null
  credentials?: RequestCredentials
}

export type Handler = (req: Recorded) => Response | Promise<Response>

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  })
}

export function apiError(status: number, code: string, message: string, fields?: Record<string, { code: string; message: string }>) {
  return json(status, { error: { code, message, ...(fields ? { fields } : {}), request_id: 'req-1' } })
}

export function fakeServer(routes: Record<string, Handler>) {
  const calls: Recorded[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://console.test')
    const req: Recorded = {
      method: (init?.method || 'GET').toUpperCase(),
      url,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : init?.body ? '[binary]' : null,
      credentials: init?.credentials,
    }
    calls.push(req)
    const h = routes[req.method + ' ' + url.pathname]
    if (!h) return apiError(404, 'route_not_found', 'No such route.')
    return h(req)
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls, routes }
}
