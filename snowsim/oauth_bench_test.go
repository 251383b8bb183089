package snowsim_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// BenchmarkBearerTableGet measures a Table API read authenticated by a
// Bearer token while 1,000 tokens are live, over real HTTP on loopback:
// token lookup scans oauth_credential, so this is the cost a busy instance
// pays per request.
//
//	go test -run='^$' -bench=Bearer ./snowsim/
func BenchmarkBearerTableGet(b *testing.B) {
	e := newSimEnv(b, snowsim.Knobs{})
	var token string
	for i := 0; i < 500; i++ { // each grant stores an access and a refresh token
		status, body := e.token(b, url.Values{"grant_type": {"password"}, "client_id": {testClientID},
			"client_secret": {testClientSecret}, "username": {"admin"}, "password": {"admin"}})
		if status != http.StatusOK {
			b.Fatalf("grant %d: %d", i, status)
		}
		token = body["access_token"].(string)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/now/table/sys_user?sysparm_limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body) // read to the end so the connection is reused
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
