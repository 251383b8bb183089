package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// pageText fetches a page with the test token and returns its HTML.
func pageText(t *testing.T, url string) string {
	t.Helper()
	resp, err := testGet(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// apiPost posts body to the API with the test token and returns the status
// and the error message, if any.
func apiPost(t *testing.T, url string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	authorizeTestRequest(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code, Message string }
	}
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Message
}

// A full disk (a SQLite page limit here): the refused change says so,
// /readyz fails with the reason, every page carries the notice, and once
// space is back a write clears it all.
func TestDatabaseFullIsTold(t *testing.T) {
	t.Parallel()
	c := startCenter(t, filepath.Join(t.TempDir(), "center.db"))
	// The limit is the file's size now. SQLite ignores a limit below the
	// size, and the center's jobs may write a page between reading the size
	// and setting it, so set it until it holds.
	for {
		var pages, limit int
		if err := c.db.SQL.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if err := c.db.SQL.QueryRow(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)).Scan(&limit); err != nil {
			t.Fatal(err)
		}
		if limit == pages {
			break
		}
	}
	var bulk []*scorebridge.Recommendation
	for i := range 300 {
		bulk = append(bulk, &scorebridge.Recommendation{
			ID: fmt.Sprintf("bulk-%03d", i), Title: "Bulk action", Description: strings.Repeat("Long enough to need new pages. ", 40),
			Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 1, State: scorebridge.StateToAddress,
		})
	}
	ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "system", Name: "system"})
	if _, err := c.recs.SeedRecommendations(ctx, bulk); scorebridge.ErrorCode(err) != scorebridge.EUNAVAILABLE || !strings.Contains(scorebridge.ErrorMessage(err), "is full") {
		t.Fatalf("bulk write on a full disk: %v", err)
	}
	var ready struct{ Status, Reason string }
	if code := getJSON(t, c.URL()+"/readyz", &ready); code != http.StatusServiceUnavailable || !strings.Contains(ready.Reason, "cannot be written") || !strings.Contains(ready.Reason, "is full") {
		t.Fatalf("readyz on a full disk = %d %+v", code, ready)
	}
	if page := pageText(t, c.URL()+"/"); !strings.Contains(page, `role="alert"><strong>The database cannot be written.</strong>`) || !strings.Contains(page, "is full") {
		t.Fatalf("the home page does not say the database cannot be written:\n%s", page)
	}

	if _, err := c.db.SQL.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.recs.SeedRecommendations(ctx, bulk[:1]); err != nil {
		t.Fatal(err)
	}
	if code := getJSON(t, c.URL()+"/readyz", &ready); code != http.StatusOK {
		t.Fatalf("readyz with space again = %d %+v", code, ready)
	}
	if page := pageText(t, c.URL()+"/"); strings.Contains(page, "The database cannot be written.") {
		t.Fatal("the notice stays after a write succeeded")
	}
}

// The database file removed under a running center: the API refuses a
// change saying why, the pages say it, and no new file appears.
func TestDatabaseRemovedRefusesWrites(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	c := startCenter(t, dbPath)
	if err := os.Remove(dbPath); err != nil {
		t.Fatal(err)
	}
	code, msg := apiPost(t, c.URL()+"/api/v1/recommendations", map[string]any{
		"id": "after-removal", "title": "Written nowhere", "category": "Identity", "maxScore": 1,
	})
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "The database cannot be written") || !strings.Contains(msg, "removed") {
		t.Fatalf("POST after the file was removed = %d %q", code, msg)
	}
	if page := pageText(t, c.URL()+"/"); !strings.Contains(page, "The database cannot be written.") || !strings.Contains(page, "removed") {
		t.Fatalf("the home page does not say the database cannot be written:\n%s", page)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Fatalf("a file is at %s again: %v", dbPath, err)
	}
}
