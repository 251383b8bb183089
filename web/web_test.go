package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/catalog"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/metrics"
	"github.com/scorebridge/scorebridge/notify"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/rules"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// testBundle is a server on a real SQLite store, reached over loopback.
type testBundle struct {
	db     *sqlstore.DB
	recs   scorebridge.RecommendationService
	scores scorebridge.ScoreService
	server *Server
	ts     *httptest.Server
	client *http.Client
	logs   *syncBuffer
	// runner is the job runner of a bundle that sends tickets, nil
	// otherwise; tests wait on its events.
	runner *jobs.Runner
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type setupOptions struct {
	noCatalog bool
	user      *scorebridge.User
	recs      []*scorebridge.Recommendation // seeded after the catalog
	metrics   *metrics.Registry
	posture   bool // serve posture sources too
	settings  bool // serve the settings store too
	// notifications serves the notification targets, with a webhook
	// sender allowed to reach loopback receivers.
	notifications bool
	sla           bool // serve the SLA and its reports too
	rules         bool // serve the automation rules (tickets stored, no jobs)
}

// setup opens a fresh SQLite database in a temporary directory, loads the
// catalog (unless told not to) and serves the web handler on loopback.
func setup(t testing.TB, opts setupOptions) *testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "scorebridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &testBundle{
		db:     db,
		recs:   sqlstore.NewRecommendationService(db),
		scores: sqlstore.NewScoreService(db),
		logs:   &syncBuffer{},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", b.logs)
		}
	})
	var seed []*scorebridge.Recommendation
	if !opts.noCatalog {
		if seed, err = catalog.Recommendations(); err != nil {
			t.Fatal(err)
		}
	}
	seed = append(seed, opts.recs...)
	if len(seed) > 0 {
		if _, err := b.recs.SeedRecommendations(ctx, seed); err != nil {
			t.Fatal(err)
		}
	}
	var postureService PostureService
	if opts.posture {
		store := sqlstore.NewPostureStore(db, nil)
		postureService = posture.NewService(&posture.Importer{Store: store}, store)
	}
	var settings scorebridge.SettingsService
	if opts.settings {
		settings = sqlstore.NewSettingsStore(db)
	}
	var notifications scorebridge.NotificationService
	if opts.notifications {
		box, err := secret.NewBox(bytes.Repeat([]byte{3}, 32))
		if err != nil {
			t.Fatal(err)
		}
		notifications = &notify.Service{Store: sqlstore.NewNotificationStore(db, box), AllowPrivate: true,
			Webhook: &notify.WebhookSender{HTTPClient: posture.NewHTTPClient(true)}}
	}
	var sla scorebridge.SLAService
	var slaReports scorebridge.SLAReports
	if opts.sla {
		sla, slaReports = sqlstore.NewSLAStore(db), sqlstore.NewTicketStore(db)
	}
	var ruleService scorebridge.RuleService
	if opts.rules {
		ruleService = &rules.Engine{Store: sqlstore.NewRuleStore(db), SLA: sqlstore.NewSLAStore(db),
			Enqueue: func(context.Context, sqlstore.TicketTx, []string) error { return nil }}
	}
	b.server, err = NewServer(Config{
		Rules:           ruleService,
		Notifications:   notifications,
		Settings:        settings,
		SLA:             sla,
		SLAReports:      slaReports,
		Recommendations: b.recs,
		Scores:          b.scores,
		Logger:          slog.New(slog.NewTextHandler(b.logs, nil)),
		User:            cmpOr(opts.user, DefaultUser),
		Idempotency:     sqlstore.NewIdempotencyStore(db),
		Metrics:         opts.metrics,
		Posture:         postureService,
		DataVersion:     db.Version,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.ts = httptest.NewServer(b.server.Handler())
	t.Cleanup(b.ts.Close)
	b.client = b.ts.Client()
	// Redirects are part of what the tests check (post/redirect/get).
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// response is a finished HTTP exchange.
type response struct {
	*http.Response
	body string
}

func (b *testBundle) do(t testing.TB, method, path, contentType, body string) *response {
	t.Helper()
	req, err := http.NewRequest(method, b.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{Response: resp, body: string(data)}
}

func (b *testBundle) get(t testing.TB, path string) *response {
	t.Helper()
	return b.do(t, http.MethodGet, path, "", "")
}

func (b *testBundle) postForm(t testing.TB, path string, form url.Values) *response {
	t.Helper()
	return b.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode())
}

func (b *testBundle) sendJSON(t testing.TB, method, path, body string) *response {
	t.Helper()
	return b.do(t, method, path, "application/json", body)
}

// wantStatus fails the test unless the response has the status.
func (r *response) wantStatus(t testing.TB, status int) *response {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body:\n%.2000s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	return r
}

// decode unmarshals a JSON body into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body: %.500s", ct, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// apiError decodes a JSON error body.
func (r *response) apiError(t testing.TB) errorDetail {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body without code or message: %s", r.body)
	}
	return e.Error
}

// wantContains fails unless the body holds every string.
func (r *response) wantContains(t testing.TB, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s %s: body lacks %q", r.Request.Method, r.Request.URL, s)
		}
	}
}

// wantNotContains fails if the body holds any of the strings.
func (r *response) wantNotContains(t testing.TB, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(r.body, s) {
			t.Errorf("%s %s: body holds %q", r.Request.Method, r.Request.URL, s)
		}
	}
}

// catalogAction returns the first stored action matching filter.
func catalogAction(t testing.TB, b *testBundle, filter scorebridge.RecommendationFilter) *scorebridge.Recommendation {
	t.Helper()
	filter.Limit = 1
	items, _, err := b.recs.FindRecommendations(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 0 {
		t.Fatalf("no action matches %+v", filter)
	}
	return items[0]
}

var nextLinkRE = regexp.MustCompile(`href="(/actions\?[^"]*cursor=[^"]*)" rel="next"`)

// nextLink returns the "Next page" link of an actions page, unescaped.
func nextLink(body string) string {
	m := nextLinkRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

var prevLinkRE = regexp.MustCompile(`href="([^"]+)" rel="prev"`)

// prevLink returns the "Previous page" link of a list page, "" when none.
func prevLink(body string) string {
	m := prevLinkRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

var rowRE = regexp.MustCompile(`<td><a href="/actions/([^"]+)">`)

// rowIDs returns the action ids of the rows of an actions table, in order.
func rowIDs(body string) []string {
	var ids []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		id, _ := url.PathUnescape(m[1])
		ids = append(ids, id)
	}
	return ids
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// cmpOr returns u, or def when u is nil: tests act as a trusted user unless
// they sign in.
func cmpOr(u, def *scorebridge.User) *scorebridge.User {
	if u != nil {
		return u
	}
	return def
}
