// CSV for the import templates: RFC 4180 quoting (a value with a comma,
// quote or line break is quoted, quotes doubled), lines ended by CRLF, and a
// UTF-8 byte order mark so that spreadsheets open Chinese text correctly
// (the server's imports accept it).

export function csvValue(v: string | number): string {
  const s = String(v)
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
}

/** toCSV renders rows (the header first) as CSV text. */
export function toCSV(rows: (string | number)[][]): string {
  return rows.map((r) => r.map(csvValue).join(',')).join('\r\n') + '\r\n'
}

/** csvBlob is toCSV as a file, with the byte order mark. */
export function csvBlob(rows: (string | number)[][]): Blob {
  return new Blob(['\uFEFF' + toCSV(rows)], { type: 'text/csv;charset=utf-8' })
}

/** majorAmount writes minor units as a decimal in major units (1250, 2 → "12.50"). */
export function majorAmount(minor: number, digits: number): string {
  const neg = minor < 0
  const s = String(Math.abs(Math.trunc(minor))).padStart(digits + 1, '0')
  const out = digits ? s.slice(0, s.length - digits) + '.' + s.slice(s.length - digits) : s
  return neg ? '-' + out : out
}
