// The console's screens: where they live, and which permission shows them
// (any one of perms). The menu and the router guard both read this list.
import type { Component } from 'vue'
import { DataAnalysis, Goods, List, Box, OfficeBuilding, Van, Finished, ShoppingCart, Shop, User, Lock, Key, Document } from '@element-plus/icons-vue'
import type { PermKey } from './lib/permissions'

export interface Screen {
  name: string
  path: string
  /** i18n key of the menu label */
  label: string
  icon: Component
  perms: PermKey[]
  group: 'work' | 'admin'
}

export const SCREENS: Screen[] = [
  { name: 'dashboard', path: '/dashboard', label: 'nav.dashboard', icon: DataAnalysis, perms: ['mall:read', 'finance:read'], group: 'work' },
  { name: 'products', path: '/products', label: 'nav.products', icon: Goods, perms: ['mall:read'], group: 'work' },
  { name: 'orders', path: '/orders', label: 'nav.orders', icon: List, perms: ['mall:read'], group: 'work' },
  { name: 'stock', path: '/stock', label: 'nav.stock', icon: Box, perms: ['warehouse:read'], group: 'work' },
  { name: 'transfers', path: '/transfers', label: 'nav.transfers', icon: Van, perms: ['warehouse:read'], group: 'work' },
  { name: 'counts', path: '/counts', label: 'nav.counts', icon: Finished, perms: ['warehouse:read'], group: 'work' },
  { name: 'purchasing', path: '/purchasing', label: 'nav.purchasing', icon: ShoppingCart, perms: ['warehouse:read'], group: 'work' },
  { name: 'suppliers', path: '/suppliers', label: 'nav.suppliers', icon: Shop, perms: ['warehouse:read'], group: 'work' },
  { name: 'warehouses', path: '/warehouses', label: 'nav.warehouses', icon: OfficeBuilding, perms: ['warehouse:read'], group: 'work' },
  { name: 'members', path: '/members', label: 'nav.members', icon: User, perms: ['admin:read'], group: 'admin' },
  { name: 'roles', path: '/roles', label: 'nav.roles', icon: Lock, perms: ['admin:read'], group: 'admin' },
  { name: 'grants', path: '/grants', label: 'nav.grants', icon: Key, perms: ['admin:read'], group: 'admin' },
  { name: 'audit', path: '/audit', label: 'nav.audit', icon: Document, perms: ['admin:read'], group: 'admin' },
]

export function screenAllowed(s: Screen, perms: ReadonlySet<string>): boolean {
  return s.perms.some((p) => perms.has(p))
}

export function allowedScreens(perms: ReadonlySet<string>): Screen[] {
  return SCREENS.filter((s) => screenAllowed(s, perms))
}
