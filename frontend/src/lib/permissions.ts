// Permissions as the console reasons about them: the role × module × action
// matrix of the Roles screen, and the set of what the signed-in member may do
// in the current tenant (which decides the screens and buttons shown; the API
// checks every call anyway).
import type { Action, Module, Permission, Policy, Role } from '../api/types'

export const MODULES: Module[] = ['mall', 'docking', 'warehouse', 'logistics', 'finance', 'admin']
export const ACTIONS: Action[] = ['read', 'write', 'approve']
/** The role nobody can edit or delete (the server refuses with role_protected). */
export const OWNER = 'owner'

export type PermKey = `${Module}:${Action}`
export type Row = Record<PermKey, boolean>
export type Matrix = Record<string, Row>

export const permKey = (m: Module, a: Action): PermKey => `${m}:${a}`

export function isModule(s: string): s is Module {
  return (MODULES as string[]).includes(s)
}
export function isAction(s: string): s is Action {
  return (ACTIONS as string[]).includes(s)
}

export function emptyRow(): Row {
  const r = {} as Row
  for (const m of MODULES) for (const a of ACTIONS) r[permKey(m, a)] = false
  return r
}

/** rowFromPermissions ticks the cells of perms ("*" stands for every module or action). */
export function rowFromPermissions(perms: readonly Permission[]): Row {
  const r = emptyRow()
  for (const p of perms) {
    const ms = (p.object as string) === '*' ? MODULES : isModule(p.object) ? [p.object] : []
    const as = (p.action as string) === '*' ? ACTIONS : isAction(p.action) ? [p.action] : []
    for (const m of ms) for (const a of as) r[permKey(m, a)] = true
  }
  return r
}

/** permissionsFromRow lists the ticked cells in display order (module, then action). */
export function permissionsFromRow(r: Row): Permission[] {
  const out: Permission[] = []
  for (const m of MODULES) for (const a of ACTIONS) if (r[permKey(m, a)]) out.push({ object: m, action: a })
  return out
}

export function toMatrix(roles: readonly Role[]): Matrix {
  const m: Matrix = {}
  for (const r of roles) m[r.name] = rowFromPermissions(r.permissions)
  return m
}

export function isLocked(role: string): boolean {
  return role === OWNER
}

/**
 * setCell ticks or clears one cell. The owner's row is locked; clearing
 * "read" also clears write and approve of the module, and ticking write or
 * approve ticks read (a module one can change but not see is of no use).
 * Returns false when nothing could change.
 */
export function setCell(mx: Matrix, role: string, m: Module, a: Action, on: boolean): boolean {
  const row = mx[role]
  if (!row || isLocked(role)) return false
  row[permKey(m, a)] = on
  if (on && a !== 'read') row[permKey(m, 'read')] = true
  if (!on && a === 'read') {
    row[permKey(m, 'write')] = false
    row[permKey(m, 'approve')] = false
  }
  return true
}

/** setModule ticks or clears every action of one module. */
export function setModule(mx: Matrix, role: string, m: Module, on: boolean): boolean {
  const row = mx[role]
  if (!row || isLocked(role)) return false
  for (const a of ACTIONS) row[permKey(m, a)] = on
  return true
}

export interface RoleChange {
  name: string
  permissions: Permission[]
  added: Permission[]
  removed: Permission[]
}

/**
 * diffMatrix compares the edited matrix with the roles as loaded and returns
 * one change per edited role (never the owner's): the request body of
 * PUT /roles/{name} is {permissions: change.permissions}.
 */
export function diffMatrix(roles: readonly Role[], mx: Matrix): RoleChange[] {
  const out: RoleChange[] = []
  for (const r of roles) {
    if (isLocked(r.name) || !mx[r.name]) continue
    const before = rowFromPermissions(r.permissions)
    const after = mx[r.name]
    const added: Permission[] = []
    const removed: Permission[] = []
    for (const m of MODULES)
      for (const a of ACTIONS) {
        const k = permKey(m, a)
        if (after[k] && !before[k]) added.push({ object: m, action: a })
        if (!after[k] && before[k]) removed.push({ object: m, action: a })
      }
    if (added.length || removed.length) out.push({ name: r.name, permissions: permissionsFromRow(after), added, removed })
  }
  return out
}

/**
 * effectivePermissions is what a member holding roleNames may do: the union
 * of their roles' permissions and their direct grants.
 */
export function effectivePermissions(roles: readonly Role[], roleNames: readonly string[], direct: readonly Policy[], userId: number): Set<PermKey> {
  const set = new Set<PermKey>()
  for (const r of roles) {
    if (!roleNames.includes(r.name)) continue
    const row = rowFromPermissions(r.permissions)
    for (const k of Object.keys(row) as PermKey[]) if (row[k]) set.add(k)
  }
  for (const p of direct) if (p.user_id === userId && isModule(p.object) && isAction(p.action)) set.add(permKey(p.object, p.action))
  return set
}

/**
 * The role templates every tenant starts with (policies/roles.csv). Used only
 * as a hint for the buttons of members who may not read the tenant's roles;
 * screens are shown from what the API answers.
 */
export const TEMPLATES: Record<string, string[]> = {
  owner: ['*:*'],
  admin: ['*:*'],
  store_manager: ['mall:*', 'warehouse:read', 'logistics:read', 'finance:read', 'docking:read'],
  warehouse_clerk: ['warehouse:read', 'warehouse:write', 'mall:read', 'logistics:read'],
  logistics_clerk: ['logistics:read', 'logistics:write', 'warehouse:read', 'mall:read'],
  accountant: ['finance:*', 'mall:read'],
  integrator: ['docking:read', 'docking:write', 'mall:read', 'warehouse:read', 'finance:read'],
  viewer: ['mall:read', 'docking:read', 'warehouse:read', 'logistics:read', 'finance:read'],
}

export function templatePermissions(roleNames: readonly string[]): Set<PermKey> {
  const perms: Permission[] = []
  for (const n of roleNames)
    for (const s of TEMPLATES[n] ?? []) {
      const [object, action] = s.split(':')
      perms.push({ object: object as Module, action: action as Action })
    }
  const row = rowFromPermissions(perms)
  return new Set((Object.keys(row) as PermKey[]).filter((k) => row[k]))
}
