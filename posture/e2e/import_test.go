package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for creating test schemas

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// bundle is a real database with the stores and an importer on it.
type bundle struct {
	db      *sqlstore.DB
	store   *sqlstore.PostureStore
	recs    scorebridge.RecommendationService
	scores  scorebridge.ScoreService
	audit   *sqlstore.AuditStore
	im      *posture.Importer
	clock   *clock
	backend string
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	pgOnce  sync.Once
	pgAdmin *sql.DB
	pgErr   error
)

// dsns lists a fresh SQLite file and, with SCOREBRIDGE_TEST_POSTGRES set, a
// fresh PostgreSQL schema.
func dsns(t testing.TB) map[string]string {
	out := map[string]string{sqlstore.DialectSQLite: filepath.Join(t.TempDir(), "scorebridge.db")}
	base := os.Getenv("SCOREBRIDGE_TEST_POSTGRES")
	if base == "" {
		return out
	}
	pgOnce.Do(func() {
		if pgAdmin, pgErr = sql.Open("pgx", base); pgErr == nil {
			pgErr = pgAdmin.Ping()
		}
	})
	if pgErr != nil {
		t.Fatalf("connect to PostgreSQL: %v", pgErr)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := pgAdmin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgAdmin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	out[sqlstore.DialectPostgres] = u.String()
	return out
}

func forEachDB(t *testing.T, f func(t *testing.T, b *bundle)) {
	t.Parallel()
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
			db.Now = c.Now
			box, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
			if err != nil {
				t.Fatal(err)
			}
			store := sqlstore.NewPostureStore(db, box)
			f(t, &bundle{
				db: db, store: store, recs: sqlstore.NewRecommendationService(db), scores: sqlstore.NewScoreService(db),
				audit: sqlstore.NewAuditStore(db), im: &posture.Importer{Store: store}, clock: c, backend: name,
			})
		})
	}
}

func asAdmin() context.Context {
	return scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "ana", Name: "ana", Role: scorebridge.RoleAdmin})
}

func TestImportGraphFile(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		ctx := asAdmin()
		// A built-in catalog action and a user recommendation before any
		// real data.
		if _, err := b.recs.SeedRecommendations(ctx, []*scorebridge.Recommendation{{
			ID: "CatalogMFA", Title: "Catalog MFA", Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceMicrosoft,
			SourceTool: scorebridge.ToolCatalog, MaxScore: 100, State: scorebridge.StateToAddress,
		}}); err != nil {
			t.Fatal(err)
		}
		user := &scorebridge.Recommendation{ID: "own-1", Title: "Our own rule", Category: scorebridge.CategoryApps, Source: scorebridge.SourceUser,
			SourceTool: scorebridge.ToolUser, MaxScore: 4, CurrentScore: 2, State: scorebridge.StateToAddress}
		if err := b.recs.CreateRecommendation(ctx, user); err != nil {
			t.Fatal(err)
		}

		imp, err := b.im.ImportFile(ctx, "graph_export.json", readFixture(t, "graph_export.json"), "upload")
		if err != nil {
			t.Fatal(err)
		}
		if imp.Added != 6 || imp.Updated != 0 || imp.Retired != 0 || imp.Unmapped != 1 || imp.Format != "graph" {
			t.Fatalf("first import = %+v", imp)
		}
		// The center's score of the tenant is Graph's own.
		if imp.Reported == nil || imp.Score.CurrentScore != imp.Reported.CurrentScore || imp.Score.MaxScore != imp.Reported.MaxScore {
			t.Fatalf("center %+v, Graph %+v", imp.Score, imp.Reported)
		}
		for i, c := range imp.Score.Categories {
			if c != imp.Reported.Categories[i] {
				t.Errorf("%s: center %+v, Graph %+v", c.Category, c, imp.Reported.Categories[i])
			}
		}
		// The catalog no longer counts; the user recommendation does.
		total, err := b.scores.CurrentScore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if total.CurrentScore != 11+2 || total.MaxScore != 27+4 {
			t.Errorf("overall = %v/%v, want the tenant's 11/27 plus the user's 2/4", total.CurrentScore, total.MaxScore)
		}
		us, _ := b.store.UserScore(ctx)
		if us.CurrentScore != 2 || us.MaxScore != 4 {
			t.Errorf("user score = %+v", us)
		}
		ev, _, err := b.audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditImport})
		if err != nil || len(ev) != 1 || ev[0].Actor != "ana" || ev[0].Detail["added"] != float64(6) {
			t.Fatalf("audit = %+v, %v", ev, err)
		}
		unmapped, err := b.store.FindUnmapped(ctx, imp.ID)
		if err != nil || len(unmapped) != 1 || !bytes.Contains(unmapped[0].Raw, []byte("CosmicRays")) {
			t.Fatalf("unmapped = %+v, %v", unmapped, err)
		}
		mfaID := scorebridge.ImportedID(imp.SourceID, "AdminMFAV2")
		mfa, err := b.recs.FindRecommendationByID(ctx, mfaID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mfa.Raw, mfa.Raw) || !bytes.Contains(mfa.Raw, []byte(`"undeclaredOpenTypeProperty": {"kept": true}`)) {
			t.Errorf("raw = %s", mfa.Raw)
		}

		// The same data again changes nothing.
		b.clock.Advance(time.Hour)
		again, err := b.im.ImportFile(ctx, "graph_export.json", readFixture(t, "graph_export.json"), "upload")
		if err != nil {
			t.Fatal(err)
		}
		if again.Added != 0 || again.Updated != 0 || again.Retired != 0 || again.Regressed != 0 || again.Unchanged != 6 {
			t.Fatalf("re-import = %+v", again)
		}
		if after, _ := b.recs.FindRecommendationByID(ctx, mfaID); !after.UpdatedAt.Equal(mfa.UpdatedAt) {
			t.Errorf("a re-import touched the action: %v -> %v", mfa.UpdatedAt, after.UpdatedAt)
		}

		// An admin plans the MFA work; a newer export keeps that, retires
		// the profile it no longer lists and regresses two controls.
		state := scorebridge.StatePlanned
		if _, err := b.recs.UpdateRecommendation(ctx, mfaID, scorebridge.RecommendationUpdate{State: &state}); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(24 * time.Hour)
		newer, err := b.im.ImportFile(ctx, "graph_export_newer.json", readFixture(t, "graph_export_newer.json"), "cli")
		if err != nil {
			t.Fatal(err)
		}
		if newer.Retired != 1 || newer.Regressed != 2 || newer.Added != 0 {
			t.Fatalf("newer import = %+v", newer)
		}
		if newer.Score.CurrentScore != 5 || newer.Score.MaxScore != 27 || newer.Reported.CurrentScore != 5 {
			t.Errorf("after the newer import: center %+v, Graph %+v", newer.Score, newer.Reported)
		}
		if got, _ := b.recs.FindRecommendationByID(ctx, mfaID); got.State != scorebridge.StatePlanned {
			t.Errorf("the admin's state was lost: %q", got.State)
		}
		dlp, _ := b.recs.FindRecommendationByID(ctx, scorebridge.ImportedID(imp.SourceID, "DLPEnabled"))
		if dlp == nil || dlp.RetiredAt == nil {
			t.Errorf("DLPEnabled must be kept and retired: %+v", dlp)
		}
		mdm, _ := b.recs.FindRecommendationByID(ctx, scorebridge.ImportedID(imp.SourceID, "mdm_enroll"))
		if mdm.RegressedAt == nil || mdm.State != scorebridge.StateToAddress {
			t.Errorf("mdm_enroll: regressed %v state %q", mdm.RegressedAt, mdm.State)
		}
		history, _ := b.recs.FindStateChanges(ctx, mdm.ID)
		if len(history) != 1 || history[0].From != scorebridge.StateThirdParty || history[0].ChangedBy != "ana" {
			t.Errorf("history = %+v", history)
		}
		regressed, err := b.store.FindRegressed(ctx, 10)
		if err != nil || len(regressed) != 2 {
			t.Errorf("regressed = %d, %v", len(regressed), err)
		}
		days, err := b.store.SourceHistory(ctx, imp.SourceID, 30)
		if err != nil || len(days) != 3 || days[2].Day != "2026-12-01" || days[0].CurrentScore != 10.5 {
			t.Errorf("history = %+v, %v", days, err)
		}
		list, err := b.store.FindImports(ctx, imp.SourceID, 0)
		if err != nil || len(list) != 3 || list[0].ID != newer.ID || list[0].Origin != "cli" {
			t.Errorf("imports = %+v, %v", list, err)
		}

		// The catalog goes in one step.
		if n, err := b.store.RemoveCatalog(ctx); err != nil || n != 1 {
			t.Errorf("remove catalog = %d, %v", n, err)
		}
	})
}

func TestImportToolFiles(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		ctx := asAdmin()
		for _, name := range []string{"ScubaResults_2026_11_30.json", "prowler-output-123456789012-20261130.ocsf.json"} {
			imp, err := b.im.ImportFile(ctx, name, readFixture(t, name), "upload")
			if err != nil {
				t.Fatal(err)
			}
			if imp.PassRate == nil || imp.Added == 0 || imp.Unmapped != 1 {
				t.Errorf("%s: %+v", name, imp)
			}
			b.clock.Advance(time.Minute)
		}
		sources, _ := b.store.FindSources(ctx)
		if len(sources) != 2 || sources[0].Kind != scorebridge.SourceKindScubaGear || !strings.Contains(sources[0].Name, "Contoso") {
			t.Fatalf("sources = %+v", sources)
		}
		// A Pass that becomes a Fail regresses, and a state the center had
		// set to Completed goes back on the to-do list.
		id := scorebridge.ImportedID(sources[0].ID, "MS.AAD.1.1v1")
		done := scorebridge.StateCompleted
		if _, err := b.recs.UpdateRecommendation(ctx, id, scorebridge.RecommendationUpdate{State: &done}); err != nil {
			t.Fatal(err)
		}
		data := bytes.Replace(readFixture(t, "ScubaResults_2026_11_30.json"), []byte(`"Result": "Pass",
            "Criticality": "Shall",
            "Details": "Conditional`), []byte(`"Result": "Fail",
            "Criticality": "Shall",
            "Details": "Conditional`), 1)
		imp, err := b.im.ImportFile(ctx, "ScubaResults_2026_12_01.json", data, "upload")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := b.recs.FindRecommendationByID(ctx, id)
		if imp.Regressed != 1 || r.RegressedAt == nil || r.State != scorebridge.StateToAddress || r.SourceStatus != "Fail" {
			t.Errorf("import %+v; action regressed %v state %q status %q", imp, r.RegressedAt, r.State, r.SourceStatus)
		}
	})
}

func TestImportRefusedFileStoresNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		ctx := asAdmin()
		full := readFixture(t, "graph_export.json")
		if _, err := b.im.ImportFile(ctx, "cut.json", full[:len(full)-40], "upload"); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("err = %v", err)
		}
		sources, _ := b.store.FindSources(ctx)
		items, _, _ := b.recs.FindRecommendations(ctx, scorebridge.RecommendationFilter{})
		if len(sources) != 0 || len(items) != 0 {
			t.Errorf("a refused file left %d sources and %d actions", len(sources), len(items))
		}
	})
}
