//go:build !desktop && !bindings

// Command saasmall-desktop is the staff desktop app (Wails). Without the
// "desktop" build tag this stub is compiled instead, so that `go build ./...`
// and `go vet ./...` work on machines without GTK/WebKit; it only says how to
// build the real thing.
package main

import (
	"fmt"
	"os"
)

const usage = `saasmall-desktop was built without the desktop app.

Build the desktop app (needs cgo and the GTK 3 / WebKit2GTK 4.0 dev packages,
on Debian: apt-get install libgtk-3-dev libwebkit2gtk-4.0-dev):

    make desktop
    # or: go build -tags desktop,production,webkit2_40 -ldflags "-s -w" -o build/bin/saasmall-desktop .

For the headless web server use the CLI instead:

    make run
    # or: CGO_ENABLED=0 go build -o build/bin/saasmall ./cmd/saasmall
    #     ./build/bin/saasmall serve --addr 127.0.0.1:8080 --db sqlite:./data/saasmall.db --demo
`

func main() {
	fmt.Fprint(os.Stderr, usage)
	os.Exit(2)
}
