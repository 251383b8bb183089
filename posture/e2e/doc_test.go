// Package e2e_test runs the importer and the Graph connector end to end on
// real databases and over real HTTP to a local Graph stand-in. It lives
// apart from package posture so the parsers' fuzz targets build without the
// databases.
package e2e_test

import (
	"os"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
