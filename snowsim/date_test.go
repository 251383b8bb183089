package snowsim_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// TestDateHeaderFollowsClock: an instance dates its answers by its own clock,
// which is what a client's clock-skew check compares with.
func TestDateHeaderFollowsClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in, err := snowsim.New(snowsim.Options{Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/now/table/incident")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !got.Equal(at) {
		t.Fatalf("Date = %q, want %s", resp.Header.Get("Date"), at.Format(http.TimeFormat))
	}
}
