package snowsim_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Conformance of the transport: compressed bodies both ways, HEAD, and the
// headers of a real instance's answer.

const (
	citeHeaders = "captured answer of a real instance's Table API (README of the npm ServiceNow client: pragma, cache-control, expires, x-is-logged-in, content-type)"
	citeGzip    = "RFC 9110 8.4 Content-Encoding; issue 11: kiota's default middleware gzips request bodies and real instances accept them"
)

// raw sends a request as admin without Go's transparent decompression.
func (b *bundle) raw(t *testing.T, method, path string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	return b.send(t, &http.Client{Transport: &http.Transport{DisableCompression: true}}, "admin", method, path, body, header)
}

// send sends a request as user (with the seeded password) through c and
// returns the answer with its whole body read.
func (b *bundle) send(t *testing.T, c *http.Client, user, method, path string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	pw := snowsim.DemoPassword
	if user == "admin" {
		pw = "admin"
	}
	req.SetBasicAuth(user, pw)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, raw
}

func gzipped(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestConformanceTransport(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("gzip request body", func(t *testing.T) {
		res, body := b.raw(t, "POST", "/api/now/table/incident", gzipped(t, `{"short_description":"gzipped"}`),
			map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
		if res.StatusCode != 201 || !strings.Contains(string(body), `"short_description":"gzipped"`) {
			t.Fatalf("[%s] %d %s", citeGzip, res.StatusCode, body)
		}
	})
	t.Run("deflate request body", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		_, _ = zw.Write([]byte(`{"short_description":"deflated"}`))
		_ = zw.Close()
		res, body := b.raw(t, "POST", "/api/now/table/incident", buf.Bytes(),
			map[string]string{"Content-Type": "application/json", "Content-Encoding": "deflate"})
		if res.StatusCode != 201 || !strings.Contains(string(body), `"short_description":"deflated"`) {
			t.Fatalf("[%s] %d %s", citeGzip, res.StatusCode, body)
		}
	})
	t.Run("bad gzip is a 400", func(t *testing.T) {
		res, body := b.raw(t, "POST", "/api/now/table/incident", []byte(`{"short_description":"x"}`),
			map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
		if res.StatusCode != 400 || !strings.Contains(string(body), "gzip") {
			t.Fatalf("[%s] %d %s", citeGzip, res.StatusCode, body)
		}
	})
	t.Run("unknown encoding is a 415", func(t *testing.T) {
		res, _ := b.raw(t, "POST", "/api/now/table/incident", []byte(`{}`),
			map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"})
		if res.StatusCode != 415 {
			t.Fatalf("[r_RESTAPIHTTPResponseCodes.md 415] %d", res.StatusCode)
		}
	})
	t.Run("gzip answer", func(t *testing.T) {
		res, body := b.raw(t, "GET", "/api/now/table/sys_user?sysparm_limit=2", nil, map[string]string{"Accept-Encoding": "gzip"})
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("[%s] Content-Encoding %q", citeHeaders, res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		var v struct{ Result []map[string]any }
		if err := json.Unmarshal(plain, &v); err != nil || len(v.Result) != 2 {
			t.Fatalf("gunzipped body %s: %v", plain, err)
		}
	})
	t.Run("no gzip unless asked", func(t *testing.T) {
		res, body := b.raw(t, "GET", "/api/now/table/sys_user?sysparm_limit=1", nil, nil)
		if res.Header.Get("Content-Encoding") != "" || !json.Valid(body) {
			t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
		}
	})
	t.Run("HEAD answers like GET without a body", func(t *testing.T) {
		get, _ := b.raw(t, "GET", "/api/now/table/sys_user?sysparm_limit=1", nil, nil)
		res, body := b.raw(t, "HEAD", "/api/now/table/sys_user?sysparm_limit=1", nil, nil)
		if res.StatusCode != 200 || len(body) != 0 || res.Header.Get("X-Total-Count") != get.Header.Get("X-Total-Count") || res.Header.Get("Link") == "" {
			t.Fatalf("HEAD %d body %q headers %v", res.StatusCode, body, res.Header)
		}
	})
	t.Run("headers of a real instance", func(t *testing.T) {
		res, _ := b.raw(t, "GET", "/api/now/table/sys_user?sysparm_limit=1", nil, nil)
		for k, v := range map[string]string{
			"Pragma": "no-store,no-cache", "Cache-Control": "no-cache,no-store,must-revalidate,max-age=-1", "Expires": "0",
			"X-Is-Logged-In": "true", "Content-Type": "application/json;charset=UTF-8",
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("[%s] %s = %q, want %q", citeHeaders, k, got, v)
			}
		}
		if len(res.Header.Get("X-Transaction-ID")) != 32 {
			t.Errorf("X-Transaction-ID %q", res.Header.Get("X-Transaction-ID"))
		}
		if c := res.Cookies(); len(c) == 0 || c[0].Name != "JSESSIONID" || !c[0].HttpOnly {
			t.Errorf("session cookie %v", c)
		}
	})
	t.Run("not logged in", func(t *testing.T) {
		req, _ := http.NewRequest("GET", b.srv.URL+"/api/now/table/incident", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 || res.Header.Get("X-Is-Logged-In") != "false" {
			t.Fatalf("[%s] %d X-Is-Logged-In %q", citeHeaders, res.StatusCode, res.Header.Get("X-Is-Logged-In"))
		}
	})
}

// citeLink is a Link header captured from a real instance, kept in the
// tests of JupiterOne's ServiceNow integration (graph-servicenow,
// src/util/getServiceNowNextLink.test.ts): rel first, prev, next and last
// in that order, joined by commas without spaces, each `<URL>;rel="name"`,
// and the last page without next.
const citeLink = "Link header of a real instance (dev94579.service-now.com), captured in graph-servicenow src/util/getServiceNowNextLink.test.ts"

func TestConformanceLinkHeader(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fiveIncidents(t, b.in)
	page := func(offset int) string {
		return "<" + b.srv.URL + "/api/now/table/incident?sysparm_limit=1&sysparm_offset=" + strconv.Itoa(offset) + ">"
	}
	for _, c := range []struct {
		offset int
		want   string
	}{
		{2, page(0) + `;rel="first",` + page(1) + `;rel="prev",` + page(3) + `;rel="next",` + page(4) + `;rel="last"`},
		{4, page(0) + `;rel="first",` + page(3) + `;rel="prev",` + page(4) + `;rel="last"`},
		{0, page(0) + `;rel="first",` + page(1) + `;rel="next",` + page(4) + `;rel="last"`},
	} {
		res, _ := b.raw(t, "GET", "/api/now/table/incident?sysparm_limit=1&sysparm_offset="+strconv.Itoa(c.offset), nil, nil)
		if got := res.Header.Get("Link"); got != c.want {
			t.Errorf("[%s] offset %d: Link\n got %s\nwant %s", citeLink, c.offset, got, c.want)
		}
	}
}
