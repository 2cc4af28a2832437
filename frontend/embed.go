// Package frontend embeds the staff console's built files (frontend/dist).
//
// The desktop app (main.go) hands Dist() to Wails as its asset file system,
// and the web server serves the same files under /console.
//
// dist is a build output (`make console`, i.e. `npm ci && npm run build` in
// this folder) and is not committed: git keeps only dist/.gitkeep, so that a
// fresh clone compiles and `go test ./...` runs before any npm step. Until the
// console is built, Dist() holds no index.html and Built() reports false; the
// server then answers /console with a page that says how to build it.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the console's built files with dist/ as the root, so that
// "index.html" names frontend/dist/index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path; "dist" is valid.
		panic(err)
	}
	return sub
}

// Built reports whether the embedded files hold a built console (an
// index.html), rather than only the placeholder that git keeps.
func Built() bool {
	_, err := fs.Stat(Dist(), "index.html")
	return err == nil
}
