//go:build race

package server_test

// raceSlowdown stretches browser-test waits: under the race detector the
// server (argon2 above all) runs many times slower.
const raceSlowdown = 5
