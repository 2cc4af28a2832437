// What differs between a browser and the desktop app (Wails). The console
// calls only these functions for files; in a browser they use a download link
// and a file input, in the desktop app the bound Go methods of app.App
// (app/app.go) open the native dialogs:
//
//   window.go.app.App.SaveFile(defaultName: string, contentBase64: string): Promise<string>
//       shows a save dialog and writes the bytes; resolves to the path
//       written, or "" when the user cancelled.
//   window.go.app.App.OpenFile(title: string, patterns: string[]): Promise<{name, path, size, content}>
//       shows an open dialog ("*.csv") and returns the file, content
//       base64-encoded; name "" when the user cancelled.
//
// When those bindings are absent (a browser, or an older desktop build) the
// browser way is used.

export interface PickedFile {
  name: string
  /** The file; a Blob so that it can be sent as a request body unchanged. */
  blob: Blob
}

interface OpenedFile {
  name: string
  path?: string
  size?: number
  /** base64 (standard encoding) */
  content: string
}

interface WailsApp {
  SaveFile?: (defaultName: string, contentBase64: string) => Promise<string>
  OpenFile?: (title: string, patterns: string[]) => Promise<OpenedFile | null>
}

/** toBase64 encodes bytes (any size) with the standard alphabet. */
export function toBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

export function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function wailsApp(): WailsApp | undefined {
  return (globalThis as unknown as { go?: { app?: { App?: WailsApp } } }).go?.app?.App
}

export function isDesktop(): boolean {
  return !!(globalThis as unknown as { go?: unknown }).go
}

/** saveFile saves blob under name; resolves false when the user cancelled. */
export async function saveFile(name: string, blob: Blob): Promise<boolean> {
  const w = wailsApp()
  if (w?.SaveFile) {
    const path = await w.SaveFile(name, toBase64(new Uint8Array(await blob.arrayBuffer())))
    return !!path
  }
  const url = URL.createObjectURL(blob)
  try {
    const a = document.createElement('a')
    a.href = url
    a.download = name
    a.rel = 'noopener'
    a.style.display = 'none'
    document.body.appendChild(a)
    a.click()
    a.remove()
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  }
  return true
}

/**
 * openFile asks for one file (accept: ".csv,text/csv"); resolves null when
 * the user cancelled.
 */
export function openFile(accept = '.csv,text/csv', title = 'Open'): Promise<PickedFile | null> {
  const w = wailsApp()
  if (w?.OpenFile) {
    const patterns = accept.split(',').filter((a) => a.startsWith('.')).map((a) => '*' + a)
    return w.OpenFile(title, patterns.length ? patterns : ['*']).then((f) =>
      f && f.name ? { name: f.name, blob: new Blob([fromBase64(f.content) as BlobPart], { type: 'text/csv' }) } : null,
    )
  }
  return new Promise((resolve) => {
    const input = document.createElement('input')
    input.type = 'file'
    input.accept = accept
    input.style.display = 'none'
    input.dataset.testid = 'platform-file-input'
    let done = false
    const finish = (v: PickedFile | null) => {
      if (done) return
      done = true
      input.remove()
      resolve(v)
    }
    input.addEventListener('change', () => {
      const f = input.files?.[0]
      finish(f ? { name: f.name, blob: f } : null)
    })
    input.addEventListener('cancel', () => finish(null))
    document.body.appendChild(input)
    input.click()
  })
}
