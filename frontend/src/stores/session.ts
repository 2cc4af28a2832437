// The signed-in member: token, account, memberships, the current tenant and
// what the member may do there.
import { defineStore } from 'pinia'
import { ApiError, admin, auth, products, stock, type Me, type Membership, type Module, type Action } from '../api'
import { effectivePermissions, permKey, templatePermissions, type PermKey, MODULES, ACTIONS, rowFromPermissions } from '../lib/permissions'

export const TOKEN_KEY = 'saasmall.console.token'
export const TENANT_KEY = 'saasmall.console.tenant'

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null
  } catch {
    return null
  }
}

/** How the permissions of the current tenant were found. */
export type PermSource = '' | 'me' | 'roles' | 'probe'

export const useSession = defineStore('session', {
  state: () => ({
    token: storage()?.getItem(TOKEN_KEY) ?? (null as string | null),
    me: null as Me | null,
    tenant: storage()?.getItem(TENANT_KEY) ?? '',
    perms: [] as PermKey[],
    permSource: '' as PermSource,
    /** Read-only modules whose write/approve buttons are a guess (see loadPermissions). */
    loadingPerms: false,
  }),
  getters: {
    signedIn: (s) => !!s.token,
    memberships: (s): Membership[] => s.me?.memberships ?? [],
    membership(): Membership | undefined {
      return this.memberships.find((m) => m.tenant.slug === this.tenant)
    },
    permSet: (s) => new Set(s.perms),
  },
  actions: {
    setToken(token: string | null) {
      this.token = token
      const st = storage()
      if (token) st?.setItem(TOKEN_KEY, token)
      else st?.removeItem(TOKEN_KEY)
    },

    /** login signs in, then loads the account and the tenant to work in. */
    async login(email: string, password: string) {
      const r = await auth.login(email, password)
      this.setToken(r.token)
      await this.loadMe()
    },

    /** loadMe reads GET /me and keeps the saved tenant when still a member of it. */
    async loadMe() {
      this.me = await auth.me()
      const ms = this.me.memberships
      if (!ms.some((m) => m.tenant.slug === this.tenant)) {
        this.tenant = ms[0]?.tenant.slug ?? ''
        this.saveTenant()
      }
      await this.loadPermissions()
    },

    saveTenant() {
      const st = storage()
      if (this.tenant) st?.setItem(TENANT_KEY, this.tenant)
      else st?.removeItem(TENANT_KEY)
    },

    async switchTenant(slug: string) {
      if (!this.memberships.some((m) => m.tenant.slug === slug)) throw new Error('not a member of ' + slug)
      this.tenant = slug
      this.saveTenant()
      await this.loadPermissions()
    },

    /**
     * loadPermissions finds what the member may do in the current tenant:
     * 1. the membership's permissions, when GET /me lists them;
     * 2. else the tenant's roles (GET /roles: members with admin read) and
     *    their direct grants (GET /policies);
     * 3. else probes: each screen's list endpoint answers 403 or not. Write
     *    and approve then follow the member's built-in role templates (the
     *    API refuses anyway, with a message).
     */
    async loadPermissions() {
      const m = this.membership
      this.perms = []
      this.permSource = ''
      if (!m) return
      const slug = m.tenant.slug
      this.loadingPerms = true
      try {
        let set: Set<PermKey>
        let source: PermSource
        if (m.permissions) {
          const row = rowFromPermissions(m.permissions)
          set = new Set((Object.keys(row) as PermKey[]).filter((k) => row[k]))
          source = 'me'
        } else {
          try {
            const [roles, pols] = await Promise.all([admin.roles(slug), admin.policies(slug)])
            set = effectivePermissions(roles.items, m.roles, pols.items, this.me!.user.id)
            source = 'roles'
          } catch (e) {
            if (!(e instanceof ApiError) || e.status !== 403) throw e
            set = await probe(slug, m.roles)
            source = 'probe'
          }
        }
        if (this.tenant === slug) {
          this.perms = [...set].sort()
          this.permSource = source
        }
      } finally {
        this.loadingPerms = false
      }
    },

    can(module: Module, action: Action = 'read'): boolean {
      return this.permSet.has(permKey(module, action))
    },

    /** logout ends the session on the server (when it still can) and here. */
    async logout() {
      if (this.token) {
        try {
          await auth.logout()
        } catch {
          /* signed out here all the same */
        }
      }
      this.clear()
    },

    /** clear forgets the session (after a 401 or a sign-out). */
    clear() {
      this.setToken(null)
      this.me = null
      this.perms = []
      this.permSource = ''
    },
  },
})

const allowed = async (p: Promise<unknown>): Promise<boolean> => {
  try {
    await p
    return true
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return false
    throw e
  }
}

/** probe asks one cheap read per module that has a screen. */
async function probe(slug: string, roleNames: string[]): Promise<Set<PermKey>> {
  const [mall, warehouse] = await Promise.all([
    allowed(products.list(slug, { per_page: 1 })),
    allowed(stock.warehouses(slug)),
  ])
  const read: Partial<Record<Module, boolean>> = { mall, warehouse, admin: false }
  const hint = templatePermissions(roleNames)
  const set = new Set<PermKey>()
  for (const mod of MODULES) {
    const canRead = read[mod] ?? hint.has(permKey(mod, 'read'))
    if (!canRead) continue
    set.add(permKey(mod, 'read'))
    for (const a of ACTIONS) if (a !== 'read' && hint.has(permKey(mod, a))) set.add(permKey(mod, a))
  }
  return set
}
