//go:build bindings

package app

// BindingsOnly is true only when the Wails CLI builds the program (tag
// "bindings") to generate the console's JavaScript bindings; main then skips
// opening the database.
const BindingsOnly = true
