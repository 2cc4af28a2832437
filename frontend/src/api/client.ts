// The console's one way to the server: JSON over fetch with a bearer token.
//
// - Every call carries `Authorization: Bearer <token>` (cookies do not work in
//   the desktop app's web view, so the console never relies on them and sends
//   none: credentials 'omit'), and the console's language both as
//   Accept-Language and as ?lang= (the server prefers ?lang= over the
//   account's saved language, which in turn beats Accept-Language).
// - Errors have one shape, {"error": {"code", "message", "fields"}}, with
//   messages already translated by the server; they become ApiError, whose
//   `fields` maps a form field (e.g. "skus[0].prices[1].amount") to its message.
// - A 401 on a call that carried a token means the session ended: the
//   onUnauthorized hook sends the user back to sign in. A 401 without a token
//   (a wrong password at sign-in) is just an error for the form.

export type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>

export interface FieldError {
  code: string
  message: string
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  /** field name → translated message */
  readonly fields: Record<string, string>
  /** field name → machine code */
  readonly fieldCodes: Record<string, string>
  readonly requestId: string

  constructor(status: number, code: string, message: string, fields: Record<string, FieldError> = {}, requestId = '') {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.requestId = requestId
    this.fields = {}
    this.fieldCodes = {}
    for (const [k, v] of Object.entries(fields)) {
      this.fields[k] = v.message
      this.fieldCodes[k] = v.code
    }
  }

  /** The field errors, or the message under '' when there are none. */
  get hasFields(): boolean {
    return Object.keys(this.fields).length > 0
  }
}

export interface ClientOptions {
  /** Prefix of every path ('' in the console: the API is on the same origin). */
  baseUrl?: string
  getToken: () => string | null | undefined
  getLang: () => string
  onUnauthorized?: (err: ApiError) => void
  /** Text for failures the server did not describe (network down, bad gateway). */
  networkMessage?: () => string
  fetch?: typeof fetch
  clientSource?: string
}

export interface RequestOptions {
  query?: Query
  /** Sent as JSON. */
  json?: unknown
  /** Sent as is with contentType (CSV uploads). */
  body?: BodyInit
  contentType?: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

export interface Download {
  blob: Blob
  filename: string
}

export function buildQuery(q?: Query): string {
  if (!q) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) {
      if (v.length) p.set(k, v.join(','))
      continue
    }
    p.set(k, String(v))
  }
  const s = p.toString()
  return s ? '?' + s : ''
}

/** parseError turns a non-2xx response into an ApiError. */
export async function parseError(res: Response, fallback: string): Promise<ApiError> {
  let body: unknown = null
  const ct = res.headers.get('Content-Type') || ''
  if (ct.includes('json')) {
    try {
      body = await res.json()
    } catch {
      body = null
    }
  }
  const e = (body as { error?: { code?: string; message?: string; fields?: Record<string, FieldError>; request_id?: string } } | null)?.error
  if (e && typeof e.code === 'string') {
    return new ApiError(res.status, e.code, e.message || e.code, e.fields || {}, e.request_id || res.headers.get('X-Request-ID') || '')
  }
  return new ApiError(res.status, 'http_' + res.status, fallback + ' (HTTP ' + res.status + ')', {}, res.headers.get('X-Request-ID') || '')
}

/** filenameOf reads Content-Disposition's filename. */
export function filenameOf(cd: string | null, fallback: string): string {
  if (!cd) return fallback
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(cd)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(cd)
  return plain ? plain[1].trim() : fallback
}

export class Client {
  private opts: ClientOptions

  constructor(opts: ClientOptions) {
    this.opts = opts
  }

  configure(o: Partial<ClientOptions>) {
    this.opts = { ...this.opts, ...o }
  }

  url(path: string, query?: Query): string {
    const lang = this.opts.getLang()
    return (this.opts.baseUrl ?? '') + path + buildQuery({ ...query, lang })
  }

  private async send(method: string, path: string, o: RequestOptions = {}, accept = 'application/json'): Promise<Response> {
    const token = this.opts.getToken()
    const lang = this.opts.getLang()
    const headers: Record<string, string> = { Accept: accept, 'Accept-Language': lang, ...o.headers }
    if (token) headers.Authorization = 'Bearer ' + token
    if (this.opts.clientSource) headers['X-Client-Source'] = this.opts.clientSource
    let body: BodyInit | undefined
    if (o.json !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(o.json)
    } else if (o.body !== undefined) {
      headers['Content-Type'] = o.contentType || 'application/octet-stream'
      body = o.body
    }
    const f = this.opts.fetch ?? globalThis.fetch.bind(globalThis)
    let res: Response
    try {
      res = await f(this.url(path, o.query), { method, headers, body, credentials: 'omit', cache: 'no-store', signal: o.signal })
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err
      throw new ApiError(0, 'network_error', this.opts.networkMessage?.() || 'The server cannot be reached.')
    }
    if (!res.ok) {
      const err = await parseError(res, this.opts.networkMessage?.() || 'The server answered with an error.')
      if (res.status === 401 && token) this.opts.onUnauthorized?.(err)
      throw err
    }
    return res
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, o)
    if (res.status === 204) return undefined as T
    const ct = res.headers.get('Content-Type') || ''
    if (!ct.includes('json')) return (await res.text()) as T
    return (await res.json()) as T
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal })
  }
  post<T>(path: string, json?: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, { json, query })
  }
  put<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>('PUT', path, { json })
  }
  patch<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { json })
  }
  del<T = void>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, { query })
  }

  /** download GETs a file (CSV export) as a Blob with the server's file name. */
  async download(path: string, query: Query | undefined, fallbackName: string, accept = 'text/csv'): Promise<Download> {
    const res = await this.send('GET', path, { query }, accept + ', application/json;q=0.5')
    return { blob: await res.blob(), filename: filenameOf(res.headers.get('Content-Disposition'), fallbackName) }
  }
}
