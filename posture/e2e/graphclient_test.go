package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/posture"
)

// graphStandIn is a local Microsoft identity platform and Graph: the token
// endpoint of the client credentials grant, control profiles paged with
// @odata.nextLink (an empty page among them), secureScores honouring $top,
// throttling with Retry-After, a 206 with a Warning, and PATCH.
type graphStandIn struct {
	t        *testing.T
	srv      *httptest.Server
	tenant   string
	profiles []json.RawMessage
	scores   []json.RawMessage
	pageSize int

	mu        sync.Mutex
	throttle  map[string]int // path -> how many 429s still to answer
	partial   bool
	tokens    int
	tops      []string
	patched   map[string]map[string]any
	unauthors int
}

func newGraphStandIn(t *testing.T, fixture string) *graphStandIn {
	g := &graphStandIn{t: t, tenant: "8f1c2d3e-0000-4a5b-9c6d-7e8f90a1b2c3", pageSize: 2, throttle: map[string]int{}, patched: map[string]map[string]any{}}
	var doc struct {
		P struct {
			Value []json.RawMessage `json:"value"`
		} `json:"secureScoreControlProfiles"`
		S struct {
			Value []json.RawMessage `json:"value"`
		} `json:"secureScores"`
	}
	if err := json.Unmarshal(readFixture(t, fixture), &doc); err != nil {
		t.Fatal(err)
	}
	g.profiles, g.scores = doc.P.Value, doc.S.Value
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

const standInToken = "stand-in-access-token"

func (g *graphStandIn) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		r.ParseForm()
		if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != "app-id" || r.PostForm.Get("client_secret") != "app-secret" ||
			r.PostForm.Get("scope") != "https://graph.microsoft.com/.default" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
			return
		}
		g.tokens++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":%q}`, standInToken)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+standInToken {
		g.unauthors++
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`)
		return
	}
	if n := g.throttle[r.URL.Path]; n > 0 {
		g.throttle[r.URL.Path] = n - 1
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"Too many requests."}}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/v1.0/security/secureScoreControlProfiles" && r.Method == http.MethodGet:
		// Pages of pageSize, with an empty page after the first: Graph
		// may answer one.
		var pages [][]json.RawMessage
		for i := 0; i < len(g.profiles); i += g.pageSize {
			pages = append(pages, g.profiles[i:min(i+g.pageSize, len(g.profiles))])
			if i == 0 {
				pages = append(pages, []json.RawMessage{})
			}
		}
		page := 0
		fmt.Sscan(r.URL.Query().Get("$skiptoken"), &page)
		items := []json.RawMessage{}
		if page < len(pages) {
			items = pages[page]
		}
		out := map[string]any{"@odata.context": g.srv.URL + "/v1.0/$metadata#security/secureScoreControlProfiles", "value": items}
		if page+1 < len(pages) {
			out["@odata.nextLink"] = fmt.Sprintf("%s/v1.0/security/secureScoreControlProfiles?$skiptoken=%d", g.srv.URL, page+1)
		}
		json.NewEncoder(w).Encode(out)
	case r.URL.Path == "/v1.0/security/secureScores":
		g.tops = append(g.tops, r.URL.Query().Get("$top"))
		if g.partial {
			w.Header().Set("Warning", `199 - "Microsoft Defender for Cloud Apps: provider unavailable"`)
			w.WriteHeader(http.StatusPartialContent)
		}
		json.NewEncoder(w).Encode(map[string]any{"value": g.scores})
	case strings.HasPrefix(r.URL.Path, "/v1.0/security/secureScoreControlProfiles/") && r.Method == http.MethodPatch:
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		g.patched[strings.TrimPrefix(r.URL.Path, "/v1.0/security/secureScoreControlProfiles/")] = body
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":"ResourceNotFound","message":"no such path"}}`)
	}
}

// sleeps records the waits the client asks for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func TestGraphConnectorEndToEnd(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		ctx := asAdmin()
		g := newGraphStandIn(t, "graph_export.json")
		g.throttle["/v1.0/security/secureScoreControlProfiles"] = 2
		waits := &sleeps{}
		b.im.HTTPClient = posture.NewHTTPClient(true)
		b.im.AllowPrivate = true
		b.im.Sleep = waits.Sleep

		src := &scorebridge.PostureSource{Kind: scorebridge.SourceKindGraph, Name: "Contoso", TenantID: g.tenant, Connector: true,
			ClientID: "app-id", TokenURL: g.srv.URL, GraphURL: g.srv.URL + "/v1.0"}
		if err := b.store.CreateSource(ctx, src, "app-secret"); err != nil {
			t.Fatal(err)
		}
		imp, err := b.im.ImportSource(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Added != 6 || imp.Partial || imp.Origin != "connector" {
			t.Fatalf("import = %+v", imp)
		}
		if imp.Score.CurrentScore != imp.Reported.CurrentScore || imp.Score.MaxScore != imp.Reported.MaxScore {
			t.Errorf("center %+v, Graph %+v", imp.Score, imp.Reported)
		}
		if len(waits.d) != 2 || waits.d[0] != 3*time.Second {
			t.Errorf("waits = %v, want the two Retry-After of 3s", waits.d)
		}
		if g.tokens != 1 || g.unauthors != 0 || len(g.tops) != 1 || g.tops[0] != "90" {
			t.Errorf("tokens %d, unauthorized %d, $top %v", g.tokens, g.unauthors, g.tops)
		}
		mfa, err := b.recs.FindRecommendationByID(ctx, scorebridge.ImportedID(src.ID, "AdminMFAV2"))
		if err != nil || !strings.Contains(string(mfa.Raw), "undeclaredOpenTypeProperty") {
			t.Fatalf("AdminMFAV2 = %+v, %v", mfa, err)
		}

		// A 206: the import says partial and retires nothing.
		g.partial = true
		g.profiles = g.profiles[:2]
		imp, err = b.im.ImportSource(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !imp.Partial || imp.Retired != 0 || !strings.Contains(strings.Join(imp.Warnings, " "), "provider unavailable") {
			t.Errorf("partial import = %+v", imp)
		}

		// Write-back is off by default; with it on, a state change is PATCHed.
		done := scorebridge.StateRiskAccepted
		mfa.State = done
		if err := b.im.WriteBack(ctx, mfa, "accepted"); err != nil || len(g.patched) != 0 {
			t.Fatalf("write-back off: %v, %v", err, g.patched)
		}
		src2 := &scorebridge.PostureSource{Kind: scorebridge.SourceKindGraph, Name: "Fabrikam", TenantID: g.tenant + "-wb", Connector: true,
			ClientID: "app-id", TokenURL: g.srv.URL, GraphURL: g.srv.URL + "/v1.0", WriteBack: true}
		if err := b.store.CreateSource(ctx, src2, "app-secret"); err != nil {
			t.Fatal(err)
		}
		mfa.SourceID = src2.ID
		if err := b.im.WriteBack(ctx, mfa, "accepted"); err != nil {
			t.Fatal(err)
		}
		if p := g.patched["AdminMFAV2"]; p == nil || p["state"] != "Ignored" || p["comment"] != "accepted" || p["assignedTo"] != "ana" {
			t.Errorf("patched = %v", g.patched)
		}
		// Planned has no Graph state: nothing is sent.
		mfa.ExternalID, mfa.State = "mdm_enroll", scorebridge.StatePlanned
		if err := b.im.WriteBack(ctx, mfa, ""); err != nil || g.patched["mdm_enroll"] != nil {
			t.Errorf("planned written back: %v %v", err, g.patched)
		}
	})
}

func TestGraphConnectorRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		ctx := asAdmin()
		g := newGraphStandIn(t, "graph_export.json")
		b.im.HTTPClient = posture.NewHTTPClient(true)
		b.im.AllowPrivate = true
		b.im.Sleep = (&sleeps{}).Sleep
		src := &scorebridge.PostureSource{Kind: scorebridge.SourceKindGraph, Name: "Contoso", TenantID: g.tenant, Connector: true,
			ClientID: "app-id", TokenURL: g.srv.URL, GraphURL: g.srv.URL + "/v1.0"}
		if err := b.store.CreateSource(ctx, src, "wrong-secret"); err != nil {
			t.Fatal(err)
		}
		_, err := b.im.ImportSource(ctx, src.ID)
		if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Fatalf("err = %v", err)
		}
		got, _ := b.store.FindSourceByID(ctx, src.ID)
		if !strings.Contains(got.LastError, "Invalid client secret") {
			t.Errorf("last error = %q", got.LastError)
		}
		// Throttled past the attempts: refused, nothing imported.
		src2 := &scorebridge.PostureSource{Kind: scorebridge.SourceKindGraph, Name: "Contoso 2", TenantID: g.tenant + "x", Connector: true,
			ClientID: "app-id", TokenURL: g.srv.URL, GraphURL: g.srv.URL + "/v1.0"}
		if err := b.store.CreateSource(ctx, src2, "app-secret"); err != nil {
			t.Fatal(err)
		}
		// Without the outbound guard's permission, loopback is refused.
		strict := &posture.Importer{Store: b.store, HTTPClient: posture.NewHTTPClient(false)}
		if _, err := strict.ImportSource(ctx, src.ID); err == nil || !strings.Contains(err.Error(), "this machine") {
			t.Errorf("a loopback Graph URL without permission: %v", err)
		}
	})
}

func TestGraphThrottledTooLong(t *testing.T) {
	t.Parallel()
	g := newGraphStandIn(t, "graph_export.json")
	g.throttle["/v1.0/security/secureScoreControlProfiles"] = 100
	waits := &sleeps{}
	c, err := posture.NewGraphClient(posture.GraphConfig{TenantID: g.tenant, ClientID: "app-id", ClientSecret: "app-secret",
		TokenURL: g.srv.URL, GraphURL: g.srv.URL + "/v1.0", HTTPClient: posture.NewHTTPClient(true), AllowPrivate: true,
		MaxAttempts: 3, Sleep: waits.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
	if len(waits.d) != 2 {
		t.Errorf("waits = %v", waits.d)
	}
}
