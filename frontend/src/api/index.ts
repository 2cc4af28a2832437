// The console's API: one client (configured in main.ts with the session's
// token, the language and the sign-out hook) and one typed function per
// endpoint. Paths are absolute (/api/v1/...): the page lives at /console/ in
// a browser and at / in the desktop app, and the API is at the same origin.
import { Client, type Query } from './client'
import type {
  AuditEntry, Dashboard, Handoff, ImportAccepted, ImportStatus, Me, MemberView, OrderReturn, OrderView, Page, ReturnInput, Permission,
  Policy, ProductInput, ProductView, Role, SignIn, StockLevel, StockMove, StockValuation, MoveKind, Transfer, Count, Supplier, SupplierInput, SupplierSKU, PurchaseOrder, POStatus, ReorderRule, Proposal, Warehouse, WarehouseInput, WarehousePatch, Module, Action, OrderStatus, ClientSource,
} from './types'

export { ApiError, Client } from './client'
export type { Query } from './client'
export * from './types'

export const api = new Client({ getToken: () => null, getLang: () => 'en' })

const t = (slug: string) => '/api/v1/t/' + encodeURIComponent(slug)

export interface PageQuery {
  page?: number
  per_page?: number
}

export const auth = {
  login: (email: string, password: string) => api.post<SignIn>('/api/v1/auth/login', { email, password }),
  logout: () => api.post<void>('/api/v1/auth/logout'),
  me: () => api.get<Me>('/api/v1/me'),
  handoff: () => api.post<Handoff>('/api/v1/auth/handoff'),
}

export const analytics = {
  dashboard: (slug: string, q: { from?: string; to?: string; currency?: string }) =>
    api.get<Dashboard>(t(slug) + '/analytics/dashboard', q as Query),
}

export interface ProductQuery extends PageQuery {
  q?: string
  status?: string
  kind?: string
}

export const products = {
  list: (slug: string, q: ProductQuery) => api.get<Page<ProductView>>(t(slug) + '/products', q as Query),
  get: (slug: string, id: number) => api.get<ProductView>(t(slug) + '/products/' + id),
  create: (slug: string, p: ProductInput) => api.post<ProductView>(t(slug) + '/products', p),
  update: (slug: string, id: number, p: Partial<ProductInput>) => api.patch<ProductView>(t(slug) + '/products/' + id, p),
  importCSV: (slug: string, csv: Blob | string) =>
    api.request<ImportAccepted>('POST', t(slug) + '/products/import', { body: csv, contentType: 'text/csv' }),
  exportCSV: (slug: string, q: ProductQuery) => api.download(t(slug) + '/products/export', q as Query, slug + '-products.csv'),
}

/** CSV imports of every kind: their progress and the rows they skipped. */
export const imports = {
  status: (slug: string, id: number | string) => api.get<ImportStatus>(t(slug) + '/imports/' + encodeURIComponent(String(id))),
}

export interface OrderQuery extends PageQuery {
  status?: OrderStatus | ''
  client_source?: ClientSource | ''
  number?: string
  from?: string
  to?: string
}

export const orders = {
  list: (slug: string, q: OrderQuery) => api.get<Page<OrderView>>(t(slug) + '/orders', q as Query),
  get: (slug: string, id: number) => api.get<OrderView>(t(slug) + '/orders/' + id),
  act: (slug: string, id: number, action: 'cancel' | 'confirm-payment' | 'fulfil' | 'complete') =>
    api.post<OrderView>(t(slug) + '/orders/' + id + '/' + action),
  returns: (slug: string, id: number) => api.get<{ items: OrderReturn[] }>(t(slug) + '/orders/' + id + '/returns'),
  recordReturn: (slug: string, id: number, r: ReturnInput) => api.post<OrderReturn>(t(slug) + '/orders/' + id + '/returns', r),
}

export const stock = {
  list: (slug: string, q: PageQuery & { sku_ids?: number[]; warehouse_id?: number }) =>
    api.get<Page<StockLevel>>(t(slug) + '/stock', q as Query),
  warehouses: (slug: string) => api.get<{ items: Warehouse[] }>(t(slug) + '/warehouses'),
  createWarehouse: (slug: string, w: WarehouseInput) => api.post<Warehouse>(t(slug) + '/warehouses', w),
  updateWarehouse: (slug: string, id: number, w: WarehousePatch) => api.patch<Warehouse>(t(slug) + '/warehouses/' + id, w),
  moves: (slug: string, q: PageQuery & { sku_id?: number; warehouse_id?: number; kind?: MoveKind }) =>
    api.get<Page<StockMove>>(t(slug) + '/stock/moves', q as Query),
  valuation: (slug: string, q: PageQuery = {}) => api.get<StockValuation>(t(slug) + '/stock/valuation', q as Query),
  transfers: (slug: string, q: PageQuery & { status?: Transfer['status'] }) => api.get<Page<Transfer>>(t(slug) + '/transfers', q as Query),
  createTransfer: (slug: string, tr: { from_warehouse_id: number; to_warehouse_id: number; lines: { sku_id: number; qty: number }[]; note?: string }) =>
    api.post<Transfer>(t(slug) + '/transfers', tr),
  transferAction: (slug: string, id: number, action: 'receive' | 'cancel') => api.post<Transfer>(t(slug) + '/transfers/' + id + '/' + action),
  counts: (slug: string, q: PageQuery & { status?: Count['status']; warehouse_id?: number }) => api.get<Page<Count>>(t(slug) + '/counts', q as Query),
  count: (slug: string, id: number) => api.get<Count>(t(slug) + '/counts/' + id),
  createCount: (slug: string, c: { warehouse_id: number; sku_ids?: number[]; note?: string }) => api.post<Count>(t(slug) + '/counts', c),
  enterCounts: (slug: string, id: number, lines: { sku_id: number; counted: number }[]) => api.patch<Count>(t(slug) + '/counts/' + id, { lines }),
  countAction: (slug: string, id: number, action: 'confirm' | 'cancel') => api.post<Count>(t(slug) + '/counts/' + id + '/' + action),
  importCounts: (slug: string, id: number, csv: Blob | string) =>
    api.request<ImportAccepted>('POST', t(slug) + '/counts/' + id + '/import', { body: csv, contentType: 'text/csv' }),
  adjust: (slug: string, a: { sku_id: number; warehouse_id?: number; delta: number; reason: string; unit_cost?: number }) =>
    api.post<StockLevel>(t(slug) + '/stock/adjustments', a),
}

export const purchasing = {
  suppliers: (slug: string, q: PageQuery & { q?: string; active?: 'true' }) => api.get<Page<Supplier>>(t(slug) + '/suppliers', q as Query),
  createSupplier: (slug: string, s: Partial<SupplierInput>) => api.post<Supplier>(t(slug) + '/suppliers', s),
  updateSupplier: (slug: string, id: number, s: Partial<SupplierInput>) => api.put<Supplier>(t(slug) + '/suppliers/' + id, s),
  supplierSkus: (slug: string, id: number) => api.get<{ items: SupplierSKU[] }>(t(slug) + '/suppliers/' + id + '/skus'),
  setSupplierSku: (slug: string, id: number, row: { sku_id: number; supplier_code?: string; unit_cost: number; min_order_qty?: number; pack_size?: number }) =>
    api.post<SupplierSKU>(t(slug) + '/suppliers/' + id + '/skus', row),
  importSupplierSkus: (slug: string, id: number, csv: Blob | string) =>
    api.request<ImportAccepted>('POST', t(slug) + '/suppliers/' + id + '/skus/import', { body: csv, contentType: 'text/csv' }),
  orders: (slug: string, q: PageQuery & { status?: POStatus; supplier_id?: number }) => api.get<Page<PurchaseOrder>>(t(slug) + '/purchase-orders', q as Query),
  createOrder: (slug: string, po: { supplier_id: number; warehouse_id?: number; exchange_rate?: string; note?: string; lines: { sku_id: number; qty: number; unit_cost?: number }[] }) =>
    api.post<PurchaseOrder>(t(slug) + '/purchase-orders', po),
  updateOrder: (slug: string, id: number, po: { exchange_rate?: string; note?: string; lines?: { sku_id: number; qty: number; unit_cost?: number }[] }) =>
    api.patch<PurchaseOrder>(t(slug) + '/purchase-orders/' + id, po),
  act: (slug: string, id: number, action: 'approve' | 'send' | 'cancel' | 'close') => api.post<PurchaseOrder>(t(slug) + '/purchase-orders/' + id + '/' + action),
  receive: (slug: string, id: number, lines: { sku_id: number; qty: number }[]) =>
    api.post<{ order: PurchaseOrder; lines: { sku_id: number; short: number; over: number }[] }>(t(slug) + '/purchase-orders/' + id + '/receipts', { lines }),
  rules: (slug: string, q: PageQuery) => api.get<Page<ReorderRule>>(t(slug) + '/reorder-rules', q as Query),
  setRule: (slug: string, r: { sku_id: number; warehouse_id?: number; min_qty: number; max_qty: number; order_multiple?: number; preferred_supplier_id?: number | null }) =>
    api.post<ReorderRule>(t(slug) + '/reorder-rules', r),
  replenish: (slug: string) => api.post<{ proposals: Proposal[]; purchase_orders: number[] }>(t(slug) + '/replenishment/run'),
}

export const admin = {
  members: (slug: string, q: PageQuery) => api.get<Page<MemberView>>(t(slug) + '/members', q as Query),
  addMember: (slug: string, email: string, roles: string[]) => api.post<MemberView>(t(slug) + '/members', { email, roles }),
  setRoles: (slug: string, userId: number, roles: string[]) => api.put<MemberView>(t(slug) + '/members/' + userId + '/roles', { roles }),
  removeMember: (slug: string, userId: number) => api.del(t(slug) + '/members/' + userId),
  roles: (slug: string) => api.get<{ items: Role[] }>(t(slug) + '/roles'),
  createRole: (slug: string, r: { name: string; description?: string; permissions?: Permission[] }) =>
    api.post<Role>(t(slug) + '/roles', r),
  updateRole: (slug: string, name: string, r: { description?: string; permissions: Permission[] }) =>
    api.put<Role>(t(slug) + '/roles/' + encodeURIComponent(name), r),
  deleteRole: (slug: string, name: string) => api.del(t(slug) + '/roles/' + encodeURIComponent(name)),
  policies: (slug: string) => api.get<{ items: Policy[] }>(t(slug) + '/policies'),
  grant: (slug: string, p: { user_id: number; object: Module; action: Action }) => api.post<Policy>(t(slug) + '/policies', p),
  revoke: (slug: string, p: { user_id: number; object: Module; action: Action }) => api.del(t(slug) + '/policies', p),
  audit: (slug: string, q: PageQuery & { action?: string; actor?: number }) => api.get<Page<AuditEntry>>(t(slug) + '/audit', q as Query),
}
