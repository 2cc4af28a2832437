// Package frontend embeds the staff console's built files (frontend/dist).
//
// The desktop app (main.go) hands Dist() to Wails as its asset file system, and
// the web server may serve the same files under /console. Until the Vue console
// lands, dist holds a committed placeholder page so that a fresh clone compiles.
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
