package main

import (
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestMain hashes this package's test passwords at bcrypt's lowest cost (the
// cost is in each hash, so checking them is as fast) and removes the binary
// the process tests share.
func TestMain(m *testing.M) {
	passwordCost = bcrypt.MinCost
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
