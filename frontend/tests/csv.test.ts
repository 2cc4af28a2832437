import { describe, expect, it } from 'vitest'
import { csvBlob, csvValue, majorAmount, toCSV } from '../src/lib/csv'

describe('import templates', () => {
  it('quotes values with commas, quotes or line breaks, and nothing else', () => {
    expect(csvValue('K8-BRN')).toBe('K8-BRN')
    expect(csvValue(12)).toBe('12')
    expect(csvValue('Desk "Pro", 桌子')).toBe('"Desk ""Pro"", 桌子"')
    expect(csvValue('a\nb')).toBe('"a\nb"')
    expect(toCSV([['sku_code', 'counted'], ['K8-BRN', ''], ['A,B', 3]])).toBe('sku_code,counted\r\nK8-BRN,\r\n"A,B",3\r\n')
  })

  it('starts the file with a byte order mark for spreadsheets', async () => {
    const bytes = new Uint8Array(await csvBlob([['a'], ['中']]).arrayBuffer())
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    expect(new TextDecoder().decode(bytes.slice(3))).toBe('a\r\n中\r\n')
  })

  it('writes costs as decimals in the currency\'s major units', () => {
    expect(majorAmount(1250, 2)).toBe('12.50')
    expect(majorAmount(5, 2)).toBe('0.05')
    expect(majorAmount(0, 2)).toBe('0.00')
    expect(majorAmount(1200, 0)).toBe('1200')
    expect(majorAmount(1234, 3)).toBe('1.234')
  })
})
