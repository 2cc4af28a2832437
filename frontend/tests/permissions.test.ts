import { describe, expect, it } from 'vitest'
import type { Permission, Policy, Role } from '../src/api/types'
import {
  ACTIONS, MODULES, diffMatrix, effectivePermissions, isLocked, permissionsFromRow, rowFromPermissions, setCell, setModule,
  templatePermissions, toMatrix,
} from '../src/lib/permissions'
import { allowedScreens } from '../src/screens'

const all: Permission[] = MODULES.flatMap((object) => ACTIONS.map((action) => ({ object, action })))
const roles: Role[] = [
  { name: 'owner', description: '', builtin: true, permissions: all, members: 1 },
  { name: 'accountant', description: '', builtin: true, members: 1,
    permissions: [{ object: 'finance', action: 'read' }, { object: 'finance', action: 'write' }, { object: 'finance', action: 'approve' }, { object: 'mall', action: 'read' }] },
  { name: 'viewer', description: '', builtin: true, members: 0, permissions: [{ object: 'mall', action: 'read' }] },
]

describe('policy matrix', () => {
  it('maps permissions to checkboxes and back, in display order', () => {
    const perms: Permission[] = [{ object: 'warehouse', action: 'write' }, { object: 'mall', action: 'read' }, { object: 'warehouse', action: 'read' }]
    const row = rowFromPermissions(perms)
    expect(row['mall:read']).toBe(true)
    expect(row['warehouse:write']).toBe(true)
    expect(row['warehouse:approve']).toBe(false)
    expect(Object.keys(row)).toHaveLength(18)
    expect(permissionsFromRow(row)).toEqual([
      { object: 'mall', action: 'read' }, { object: 'warehouse', action: 'read' }, { object: 'warehouse', action: 'write' },
    ])
  })

  it('understands * for every module or action', () => {
    const row = rowFromPermissions([{ object: '*' as never, action: 'read' }, { object: 'finance', action: '*' as never }])
    expect(MODULES.every((m) => row[`${m}:read`])).toBe(true)
    expect(row['finance:approve']).toBe(true)
    expect(row['mall:write']).toBe(false)
  })

  it('keeps the owner locked', () => {
    const mx = toMatrix(roles)
    expect(isLocked('owner')).toBe(true)
    expect(setCell(mx, 'owner', 'admin', 'write', false)).toBe(false)
    expect(setModule(mx, 'owner', 'mall', false)).toBe(false)
    expect(mx.owner['admin:write']).toBe(true)
    // Even a hand-edited owner row never becomes a request.
    mx.owner['mall:read'] = false
    expect(diffMatrix(roles, mx)).toEqual([])
  })

  it('diffs the matrix into one PUT per changed role', () => {
    const mx = toMatrix(roles)
    expect(diffMatrix(roles, mx)).toEqual([])
    setCell(mx, 'accountant', 'warehouse', 'read', true)
    setCell(mx, 'accountant', 'finance', 'approve', false)
    const d = diffMatrix(roles, mx)
    expect(d).toHaveLength(1)
    expect(d[0].name).toBe('accountant')
    expect(d[0].added).toEqual([{ object: 'warehouse', action: 'read' }])
    expect(d[0].removed).toEqual([{ object: 'finance', action: 'approve' }])
    expect(d[0].permissions).toEqual([
      { object: 'mall', action: 'read' }, { object: 'warehouse', action: 'read' },
      { object: 'finance', action: 'read' }, { object: 'finance', action: 'write' },
    ])
    // Undoing the edit leaves nothing to save.
    setCell(mx, 'accountant', 'warehouse', 'read', false)
    setCell(mx, 'accountant', 'finance', 'approve', true)
    expect(diffMatrix(roles, mx)).toEqual([])
  })

  it('ticks read with write and clears write and approve with read', () => {
    const mx = toMatrix(roles)
    setCell(mx, 'viewer', 'warehouse', 'approve', true)
    expect(mx.viewer['warehouse:read']).toBe(true)
    setCell(mx, 'viewer', 'warehouse', 'read', false)
    expect(mx.viewer['warehouse:approve']).toBe(false)
    setModule(mx, 'viewer', 'logistics', true)
    expect(ACTIONS.every((a) => mx.viewer[`logistics:${a}`])).toBe(true)
  })

  it('computes a member’s permissions from roles and direct grants', () => {
    const direct: Policy[] = [
      { subject: 'user:7', user_id: 7, object: 'warehouse', action: 'read' },
      { subject: 'user:8', user_id: 8, object: 'admin', action: 'read' },
    ]
    const set = effectivePermissions(roles, ['accountant'], direct, 7)
    expect([...set].sort()).toEqual(['finance:approve', 'finance:read', 'finance:write', 'mall:read', 'warehouse:read'])
    expect(allowedScreens(set).map((s) => s.name)).toEqual(['dashboard', 'products', 'orders', 'stock', 'transfers', 'counts', 'purchasing', 'suppliers', 'warehouses'])
    expect(allowedScreens(new Set(['admin:read'])).map((s) => s.name)).toEqual(['members', 'roles', 'grants', 'audit'])
  })

  it('knows the role templates', () => {
    expect(templatePermissions(['store_manager']).has('mall:approve')).toBe(true)
    expect(templatePermissions(['warehouse_clerk']).has('mall:write')).toBe(false)
    expect(templatePermissions(['owner']).size).toBe(18)
    expect(templatePermissions(['made_up']).size).toBe(0)
  })
})
