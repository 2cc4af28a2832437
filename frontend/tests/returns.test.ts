import { describe, expect, it } from 'vitest'
import { canReturn, returnBody, returnRows, returnedByLine, rowErrors, rowKey } from '../src/lib/returns'
import type { LineView, OrderReturn } from '../src/api/types'

const usd = (amount: number) => ({ amount, currency: 'USD' })
const line = (id: number, kind: 'goods' | 'saas', quantity: number): LineView => ({
  id, product_id: id, sku_id: 100 + id, kind, name: 'Line ' + id, quantity, unit_price: usd(1000), amount: usd(1000 * quantity),
})
const ret = (id: number, ...lines: [number, number][]): OrderReturn => ({
  id, order_id: 1, warehouse_id: 1, reason: 'x', subtotal: usd(0), tax: usd(0), refund_due: usd(0), actor_user_id: 1, created_at: '2026-11-25T09:00:00Z',
  lines: lines.map(([line_id, quantity]) => ({ line_id, sku_id: 100 + line_id, name: 'Line ' + line_id, quantity, unit_price: usd(1000), amount: usd(1000 * quantity) })),
})

describe('returns', () => {
  const lines = [line(1, 'goods', 3), line(2, 'saas', 2), line(3, 'goods', 1)]

  it('lists the goods lines with what was returned and what is left', () => {
    const returns = [ret(1, [1, 2]), ret(2, [1, 1], [3, 1])]
    expect([...returnedByLine(returns)]).toEqual([[1, 3], [3, 1]])
    const rows = returnRows(lines, [ret(1, [1, 2])])
    expect(rows.map((r) => [r.line.id, r.returned, r.left, r.quantity])).toEqual([[1, 2, 1, 0], [3, 0, 1, 0]])
    expect(canReturn('fulfilled', rows)).toBe(true)
    expect(canReturn('completed', rows)).toBe(true)
    expect(canReturn('paid', rows)).toBe(false)
    expect(canReturn('completed', returnRows(lines, returns))).toBe(false) // everything is back
    expect(canReturn('completed', returnRows([line(2, 'saas', 2)], []))).toBe(false)
  })

  it('sends the rows with a quantity and puts the field errors back on them', () => {
    const rows = returnRows(lines, [])
    rows[1].quantity = 1
    const { body, sent } = returnBody(rows, 0, '  damaged ')
    expect(body).toEqual({ reason: 'damaged', lines: [{ line_id: 3, quantity: 1 }] })
    expect(sent).toEqual([3])
    rows[0].quantity = 2
    const again = returnBody(rows, 7, 'x')
    expect(again.body.warehouse_id).toBe(7)
    expect(again.sent).toEqual([1, 3])
    expect(rowErrors({ 'lines[1].quantity': 'Must be between 1 and 1.', 'lines[0].line_id': 'Not goods.', reason: 'Required.', 'lines[5].quantity': 'x' }, again.sent)).toEqual({
      [rowKey(3, 'quantity')]: 'Must be between 1 and 1.',
      [rowKey(1, 'line_id')]: 'Not goods.',
      reason: 'Required.',
      'lines[5].quantity': 'x',
    })
  })
})
