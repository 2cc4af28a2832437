// Customer returns of an order's goods, as the order detail works with
// them: what each goods line may still take back, the request body built
// from the dialog's quantities, and the API's field errors (named after the
// request's lines, lines[i].quantity) moved onto the dialog's rows.
import type { LineView, OrderReturn, OrderStatus, ReturnInput } from '../api/types'

/** Orders in these states take returns (the API answers order_not_returnable otherwise). */
export const RETURNABLE: readonly OrderStatus[] = ['fulfilled', 'completed']

/** One goods line of the order in the return dialog. */
export interface ReturnRow {
  line: LineView
  /** Units earlier returns took back. */
  returned: number
  /** Units still returnable: the most the API accepts for this line. */
  left: number
  /** Units coming back now (0: the line is not in this return). */
  quantity: number
}

/** returnedByLine sums, per order line id, the units the returns took back. */
export function returnedByLine(returns: readonly OrderReturn[]): Map<number, number> {
  const m = new Map<number, number>()
  for (const r of returns) for (const l of r.lines) m.set(l.line_id, (m.get(l.line_id) ?? 0) + l.quantity)
  return m
}

/** returnRows lists the order's goods lines with what was returned and what is left. */
export function returnRows(lines: readonly LineView[], returns: readonly OrderReturn[]): ReturnRow[] {
  const done = returnedByLine(returns)
  return lines
    .filter((l) => l.kind === 'goods')
    .map((line) => {
      const returned = done.get(line.id) ?? 0
      return { line, returned, left: Math.max(0, line.quantity - returned), quantity: 0 }
    })
}

/** canReturn: the order takes returns and some of its goods are still returnable. */
export function canReturn(status: OrderStatus, rows: readonly ReturnRow[]): boolean {
  return RETURNABLE.includes(status) && rows.some((r) => r.left > 0)
}

/**
 * returnBody is the request for the rows with a quantity; sent[i] is the
 * order line id of the request's lines[i] (for rowErrors).
 */
export function returnBody(rows: readonly ReturnRow[], warehouseId: number | undefined, reason: string): { body: ReturnInput; sent: number[] } {
  const picked = rows.filter((r) => r.quantity > 0)
  const body: ReturnInput = { reason: reason.trim(), lines: picked.map((r) => ({ line_id: r.line.id, quantity: r.quantity })) }
  if (warehouseId) body.warehouse_id = warehouseId
  return { body, sent: picked.map((r) => r.line.id) }
}

/** rowKey names a dialog row's field, e.g. rowKey(12, 'quantity') = "line:12.quantity". */
export const rowKey = (lineId: number, field: string) => `line:${lineId}.${field}`

/**
 * rowErrors moves the API's lines[i].<field> errors onto rowKey(line id,
 * field) by sent (see returnBody); other fields (reason, warehouse_id,
 * lines) stay as they are.
 */
export function rowErrors(fields: Readonly<Record<string, string>>, sent: readonly number[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, msg] of Object.entries(fields)) {
    const m = /^lines\[(\d+)\]\.(\w+)$/.exec(k)
    const id = m ? sent[Number(m[1])] : undefined
    out[m && id !== undefined ? rowKey(id, m[2]) : k] = msg
  }
  return out
}
