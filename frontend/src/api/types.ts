// Types of the JSON API (server/web/openapi.json is authoritative).

export type ClientSource = 'pc' | 'mobile' | 'app' | 'applet'
export type Module = 'mall' | 'docking' | 'warehouse' | 'logistics' | 'finance' | 'admin'
export type Action = 'read' | 'write' | 'approve'
export type Locale = 'en' | 'zh-Hans'

export interface Permission {
  object: Module
  action: Action
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  per_page: number
}

export interface Money {
  amount: number
  currency: string
}

export interface User {
  id: number
  email: string
  name: string
  locale: '' | Locale
  platform_operator: boolean
  created_at?: string
}

export interface SignIn {
  token: string
  csrf_token: string
  expires_at: string
  session: { id: number; client_source: ClientSource; created_at: string; expires_at: string }
  user: User
}

export interface Membership {
  tenant: { id: number; slug: string; name: string }
  roles: string[]
  /** Not in the API yet: when the server adds it, the console uses it as is. */
  permissions?: Permission[]
}

export interface Me {
  user: User
  memberships: Membership[]
  client_source: ClientSource
  session: { id: number; client_source: ClientSource; created_at: string }
}

export interface Handoff {
  code: string
  expires_at: string
  url: string
  qr_png: string
}

export interface Role {
  name: string
  description: string
  builtin: boolean
  permissions: Permission[]
  members: number
}

export interface Policy {
  subject: string
  user_id: number
  object: Module
  action: Action
}

export interface MemberView {
  user_id: number
  email: string
  name: string
  roles: string[]
  created_at: string
}

export interface AuditEntry {
  id: number
  tenant_id: number
  actor_user_id: number
  actor_email: string
  action: string
  target: string
  before: unknown
  after: unknown
  created_at: string
}

export type Kind = 'saas' | 'goods'
export type Tier = 'free' | 'paid' | 'addon'
export type Interval = 'month' | 'year'
export type ProductStatus = 'draft' | 'active' | 'archived'

export interface PlanView {
  tier: Tier
  interval: Interval
  per_seat: boolean
  trial_days: number
  features: string[]
}

export interface SKUView {
  id: number
  code: string
  name: string
  active: boolean
  prices: Money[]
  weight_grams?: number
  hs_code?: string
  origin_country?: string
  plan?: PlanView
}

export interface Attribute {
  key: string
  value: string
}

export interface ProductView {
  id: number
  kind: Kind
  name: string
  summary: string
  description: string
  category: string
  image_url: string
  status: ProductStatus
  attributes: Attribute[]
  store: { slug: string; name: string }
  sales_count: number
  created_at: string
  updated_at: string
  skus: SKUView[]
}

export interface PriceInput {
  amount: number
  currency: string
}

export interface PlanInput {
  tier: Tier
  interval: Interval
  per_seat?: boolean
  trial_days?: number
  features?: string[]
}

export interface SKUInput {
  id?: number
  code: string
  name: string
  prices: PriceInput[]
  weight_grams?: number
  hs_code?: string
  origin_country?: string
  plan?: PlanInput | null
}

export interface ProductInput {
  kind?: Kind
  name: string
  summary?: string
  description?: string
  category?: string
  image_url?: string
  status?: ProductStatus
  attributes?: Attribute[]
  skus: SKUInput[]
}

export type OrderStatus = 'pending_payment' | 'paid' | 'fulfilled' | 'completed' | 'cancelled'

export interface LineView {
  id: number
  product_id: number
  sku_id: number
  kind: Kind
  name: string
  quantity: number
  unit_price: Money
  amount: Money
  /** Staff order detail only: the units customers sent back so far. */
  quantity_returned?: number
}

export interface ReturnLine {
  line_id: number
  sku_id: number
  name: string
  quantity: number
  unit_price: Money
  amount: Money
}

/** Goods a customer sent back against a fulfilled or completed order. */
export interface OrderReturn {
  id: number
  order_id: number
  warehouse_id: number
  reason: string
  lines: ReturnLine[]
  /** The goods at their order prices. */
  subtotal: Money
  /** Their share of the order's tax. */
  tax: Money
  /** subtotal + tax. */
  refund_due: Money
  actor_user_id: number
  created_at: string
}

export interface ReturnInput {
  /** 0 or absent: the default warehouse. */
  warehouse_id?: number
  reason: string
  lines: { line_id: number; quantity: number }[]
}

export interface OrderView {
  id: number
  number: string
  kind: 'checkout' | 'renewal' | 'proration'
  store: { slug: string; name: string }
  status: OrderStatus
  subtotal: Money
  tax: Money
  shipping: Money
  total: Money
  tax_rate_bp: number
  client_source: ClientSource
  shipping_address?: { name: string; line1: string; city: string; postal_code: string; country: string }
  lines: LineView[]
  subscription_id?: number
  payment_pending: boolean
  expires_at?: string
  paid_at?: string
  cancelled_at?: string
  cancel_reason?: string
  created_at: string
  /** Not in the API yet. */
  fulfilled_at?: string
  completed_at?: string
}

export interface Warehouse {
  id: number
  code: string
  name: string
  country: string
  line1: string
  city: string
  postal_code: string
  status: 'active' | 'closed'
  is_default: boolean
  created_at: string
  updated_at: string
}

export type MoveKind = 'adjust' | 'receipt' | 'count' | 'transfer_out' | 'transfer_in' | 'return' | 'reserve' | 'release' | 'commit'

export interface StockMove {
  id: number
  warehouse_id: number
  sku_id: number
  kind: MoveKind
  delta_on_hand: number
  delta_reserved: number
  reason: string
  ref: string
  unit_cost: number
  actor_user_id: number
  created_at: string
}

export interface StockValue {
  sku_id: number
  qty: number
  avg_cost: number
  value: number
  updated_at: string
}

export interface StockValuation extends Page<StockValue> {
  currency: string
  total_value: number
}

export interface Transfer {
  id: number
  from_warehouse_id: number
  to_warehouse_id: number
  status: 'in_transit' | 'received' | 'cancelled'
  note: string
  created_by: number
  created_at: string
  received_at?: string
  cancelled_at?: string
  lines: { sku_id: number; qty: number; unit_cost: number }[]
}

export interface Count {
  id: number
  warehouse_id: number
  status: 'open' | 'confirmed' | 'cancelled'
  note: string
  created_by: number
  created_at: string
  confirmed_by?: number
  confirmed_at?: string
  cancelled_at?: string
  lines: { sku_id: number; expected: number; counted: number | null; posted: number }[]
}

export interface Supplier {
  id: number
  code: string
  name: string
  contact_name: string
  email: string
  phone: string
  currency: string
  lead_time_days: number
  payment_terms: string
  active: boolean
  created_at: string
  updated_at: string
}

export type SupplierInput = Omit<Supplier, 'id' | 'created_at' | 'updated_at'>

export interface SupplierSKU {
  supplier_id: number
  sku_id: number
  supplier_code: string
  unit_cost: number
  min_order_qty: number
  pack_size: number
  updated_at: string
}

export type POStatus = 'draft' | 'approved' | 'sent' | 'partially_received' | 'received' | 'closed' | 'cancelled'

export interface PurchaseOrder {
  id: number
  supplier_id: number
  warehouse_id: number
  status: POStatus
  currency: string
  exchange_rate: string
  source: 'manual' | 'replenishment'
  note: string
  expected_at?: string
  created_at: string
  updated_at: string
  lines: { id: number; sku_id: number; qty: number; unit_cost: number; received: number; reason?: string }[]
  total: number
}

export interface ReorderRule {
  id: number
  sku_id: number
  warehouse_id: number
  min_qty: number
  max_qty: number
  order_multiple: number
  preferred_supplier_id: number | null
  active: boolean
  updated_at: string
}

export interface Proposal {
  rule_id: number
  sku_id: number
  warehouse_id: number
  projected: number
  min_qty: number
  max_qty: number
  qty: number
  supplier_id?: number
  purchase_order_id?: number
  skipped?: string
  reason: string
}

export interface WarehouseInput {
  code: string
  name: string
  country: string
  line1?: string
  city?: string
  postal_code?: string
}

export type WarehousePatch = Partial<Omit<WarehouseInput, 'code'>> & { status?: 'active' | 'closed'; is_default?: true }

export interface StockLevel {
  warehouse_id: number
  sku_id: number
  on_hand: number
  reserved: number
  available: number
  updated_at: string
}

export interface ImportAccepted {
  id: number | string
  total: number
}

export interface ImportRowError {
  /** CSV record number (the header is row 1) */
  row: number
  column?: string
  field: string
  code: string
  message: string
}

export interface ImportStatus {
  id?: number | string
  /** products, stock_counts or supplier_skus */
  kind?: string
  /** the count sheet or supplier imported into; 0 for products */
  target_id?: number
  status: string
  total: number
  processed: number
  imported: number
  failed: number
  errors: ImportRowError[]
}

export interface Figures {
  orders: number
  paid_orders: number
  revenue: number
  average_order_value: number
  conversion: number
  channel_share: Partial<Record<ClientSource, number>>
}

export interface Dashboard {
  from: string
  to: string
  currency: string
  by_day: { day: string; orders: number; paid_orders: number; revenue: number }[]
  by_channel: { channel: ClientSource; orders: number; paid_orders: number; revenue: number; share: number }[]
  top_products: { product_id: number; name: string; units: number; revenue: number }[]
  low_stock: { sku_id: number; code: string; name: string; warehouse: string; available: number }[]
  store: Figures
  mall: Figures
}
