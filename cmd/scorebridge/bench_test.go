package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/internal/dbtest"
)

// TestBenchQuick runs the bench at its tiny size and checks that every
// figure is printed beside its reference or bound, on PostgreSQL too when
// it is there. Only that the figures exist is checked: a benchmark
// measures, it never fails on a timing.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("the bench builds three simulators and a center; skipped with -short")
	}
	t.Parallel()
	args := []string{"bench", "--quick"}
	backends := []string{"SQLite"}
	if base := dbtest.PostgresURL(); base != "" {
		args = append(args, "--postgres", base)
		backends = append(backends, "PostgreSQL")
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("bench exit %d:\n%s\n%s", code, out.String(), errOut.String())
	}
	text := out.String()
	for _, backend := range backends {
		i := strings.Index(text, "\n"+backend+": ")
		if i < 0 {
			t.Fatalf("no %s run in:\n%s", backend, text)
		}
		section := text[i:]
		if j := strings.Index(section[1:], "\nPostgreSQL: 1000"); j >= 0 {
			section = section[:j+1]
		}
		for _, want := range []string{
			"sync: 10 changes among 100 tracked tickets", "(least ceil(k/page)+1 = 2",
			"ticket creation, run 1:", "ticket creation, run 2:", "against the rate-limit bound",
			"home page (kept), 200 actions", "home page (built each time), 200 actions", "home page (kept), 400 actions",
			"tickets page (kept), 200 actions", "tickets page (built each time), 400 actions",
			"API (actions, 50) (kept), 200 actions", "API (actions, 50) (built each time), 200 actions", "static file of the same size", "page/static: median", "(bound 3x)",
			"peak RSS (VmHWM", "(bound 150 MB)",
		} {
			if !strings.Contains(section, want) {
				t.Errorf("%s: the bench's output lacks %q:\n%s", backend, want, section)
			}
		}
	}
}

// TestBenchRefusesBadSizes: sizes that are not numbers, or not smallest
// first, are refused at start with what is wrong.
func TestBenchRefusesBadSizes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--actions", "5000,many"}, `"many" is not a number`},
		{[]string{"bench", "--actions", "50000,5000"}, "smallest first"},
		{[]string{"bench", "--tickets", "0"}, "--tickets"},
		{[]string{"bench", "--postgres", "mysql://x"}, "postgres:// URL"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, func(string) string { return "" }, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}
