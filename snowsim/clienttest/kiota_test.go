package clienttest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"

	"github.com/scorebridge/scorebridge/snowsim"
)

// The kiota HTTP stack (github.com/microsoft/kiota-http-go) is what Go
// SDKs generated for REST APIs are built on, the ServiceNow ones among
// them. Its default middleware gzips every request body, which the
// simulator once refused (issue 11). The client is used as it comes: the
// default middleware, an API-key provider putting Basic credentials in
// the Authorization header (it insists on https, as real instances are),
// and only the test server's certificate trusted on top.

// encodings records the Content-Encoding of the request bodies the
// simulator receives, so the test knows the middleware compressed them.
type encodings struct {
	mu   sync.Mutex
	seen map[string]int
}

func (e *encodings) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Method != http.MethodGet {
			e.mu.Lock()
			e.seen[r.Header.Get("Content-Encoding")]++
			e.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

type kiotaClient struct {
	t       *testing.T
	adapter *khttp.NetHttpRequestAdapter
	base    string
}

func newKiotaClient(t *testing.T, srv *httptest.Server) *kiotaClient {
	t.Helper()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:admin"))
	auth, err := absauth.NewApiKeyAuthenticationProvider(basic, "Authorization", absauth.HEADER_KEYLOCATION)
	if err != nil {
		t.Fatal(err)
	}
	client := khttp.GetDefaultClient()
	client.Transport = khttp.NewCustomTransportWithParentTransport(srv.Client().Transport, khttp.GetDefaultMiddlewares()...)
	adapter, err := khttp.NewNetHttpRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	return &kiotaClient{t: t, adapter: adapter, base: srv.URL}
}

// send runs one request and returns the answer's body.
func (c *kiotaClient) send(method abs.HttpMethod, path string, contentType string, body []byte) ([]byte, error) {
	c.t.Helper()
	u, err := url.Parse(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	ri := abs.NewRequestInformation()
	ri.Method = method
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "application/json")
	if body != nil {
		ri.SetStreamContentAndContentType(body, contentType)
	}
	if method == abs.DELETE {
		return nil, c.adapter.SendNoContent(context.Background(), ri, nil)
	}
	res, err := c.adapter.SendPrimitive(context.Background(), ri, "[]byte", nil)
	if err != nil || res == nil {
		return nil, err
	}
	return res.([]byte), nil
}

func (c *kiotaClient) record(method abs.HttpMethod, path, body string) map[string]any {
	c.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	raw, err := c.send(method, path, "application/json", b)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	var v struct{ Result map[string]any }
	if err := json.Unmarshal(raw, &v); err != nil || v.Result == nil {
		c.t.Fatalf("%s %s: %v %s", method, path, err, raw)
	}
	return v.Result
}

func TestKiotaClientCRUD(t *testing.T) {
	t.Parallel()
	in, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close() })
	enc := &encodings{seen: map[string]int{}}
	srv := httptest.NewTLSServer(enc.wrap(in))
	t.Cleanup(srv.Close)
	c := newKiotaClient(t, srv)

	created := c.record(abs.POST, "/api/now/table/incident", `{"short_description":"Enable MFA for all admins","impact":"1","urgency":"1","correlation_id":"kiota-1"}`)
	id, _ := created["sys_id"].(string)
	if created["number"] != "INC0010001" || created["priority"] != "1" || len(id) != 32 {
		t.Fatalf("create: %v", created)
	}
	if got := c.record(abs.GET, "/api/now/table/incident/"+id, ""); got["short_description"] != "Enable MFA for all admins" {
		t.Fatalf("read: %v", got)
	}
	raw, err := c.send(abs.GET, "/api/now/table/incident?sysparm_query=correlation_id%3Dkiota-1&sysparm_fields=sys_id,number", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Result []map[string]any }
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Result) != 1 || list.Result[0]["sys_id"] != id {
		t.Fatalf("list: %v %s", err, raw)
	}
	if got := c.record(abs.PATCH, "/api/now/table/incident/"+id, `{"state":"2","work_notes":"rolling out"}`); got["state"] != "2" || got["sys_mod_count"] != "1" {
		t.Fatalf("update: %v", got)
	}
	if _, err := c.send(abs.POST, "/api/now/attachment/file?table_name=incident&table_sys_id="+id+"&file_name=plan.txt", "text/plain", []byte("step 1: enforce MFA")); err != nil {
		t.Fatalf("attachment: %v", err)
	}
	if _, err := c.send(abs.DELETE, "/api/now/table/incident/"+id, "", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.send(abs.GET, "/api/now/table/incident/"+id, "", nil)
	var apiErr *abs.ApiError
	if !errors.As(err, &apiErr) || apiErr.ResponseStatusCode != http.StatusNotFound {
		t.Fatalf("read after delete: %v", err)
	}

	enc.mu.Lock()
	defer enc.mu.Unlock()
	if enc.seen["gzip"] < 3 || len(enc.seen) != 1 {
		t.Fatalf("request bodies by Content-Encoding: %v; the default middleware gzips each one", enc.seen)
	}
}
