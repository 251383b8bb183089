package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// sendKeyed sends a request with an Idempotency-Key header.
func sendKeyed(t *testing.T, b *testBundle, method, path, contentType, body, key string, header http.Header) *response {
	t.Helper()
	req, err := http.NewRequest(method, b.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set(idempotencyHeader, key)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, body: string(data)}
}

func ticketCount(t *testing.T, b *testBundle, recID string) int {
	t.Helper()
	var list struct{ Items []apiTicket }
	b.get(t, "/api/v1/tickets?recommendationId="+recID).wantStatus(t, http.StatusOK).decode(t, &list)
	return len(list.Items)
}

// A ticket request whose answer was lost is retried with its
// Idempotency-Key: the retry gets the first answer again and no second
// ticket is made; the same key with another body is a 422.
func TestIdempotentTicketRetry(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)
	body := `{"recommendationId":"mfa","type":"incident","name":"Require MFA","priority":2}`
	first := sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", body, "retry-1", nil).wantStatus(t, http.StatusAccepted)
	again := sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", body, "retry-1", nil).wantStatus(t, http.StatusAccepted)
	if again.body != first.body || again.Header.Get("Location") != first.Header.Get("Location") || again.Header.Get(replayedHeader) != "true" ||
		!strings.HasPrefix(again.Header.Get("Content-Type"), "application/json") {
		t.Errorf("retry answered %q (Location %q, replayed %q), first %q", again.body, again.Header.Get("Location"), again.Header.Get(replayedHeader), first.body)
	}
	if first.Header.Get(replayedHeader) != "" {
		t.Error("the first answer is marked replayed")
	}
	if n := ticketCount(t, b, "mfa"); n != 1 {
		t.Fatalf("%d tickets after a retried request, want 1", n)
	}
	other := sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", strings.Replace(body, "Require MFA", "Other", 1), "retry-1", nil)
	other.wantStatus(t, http.StatusUnprocessableEntity).wantContains(t, codeIdempotencyKeyReused, "different request")
	// Without a key, two requests make two tickets, as before.
	sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", body, "", nil).wantStatus(t, http.StatusAccepted)
	if n := ticketCount(t, b, "mfa"); n != 2 {
		t.Fatalf("%d tickets, want 2", n)
	}
	// Bad keys are refused with a reason.
	sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", body, "has space", nil).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "Idempotency-Key")
	sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", body, strings.Repeat("k", 256), nil).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "at most 255")
}

// Many retries of one key sent at once still make one ticket.
func TestIdempotentConcurrentRetries(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)
	body := `{"recommendationId":"disk","type":"change","name":"Disks","priority":3}`
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sendKeyed(t, b, http.MethodPost, "/api/v1/tickets", "application/json", body, "burst", nil)
			if r.StatusCode != http.StatusAccepted {
				t.Errorf("status %d: %s", r.StatusCode, r.body)
			}
			bodies[i] = r.body
		}()
	}
	wg.Wait()
	if n := ticketCount(t, b, "disk"); n != 1 {
		t.Fatalf("%d tickets from one key sent 8 times at once, want 1", n)
	}
	for _, got := range bodies[1:] {
		if got != bodies[0] {
			t.Errorf("answers differ: %q and %q", got, bodies[0])
		}
	}
}

// The share form carries a key of its own: a double click or a resubmitted
// page shares once and both land on the same ticket.
func TestShareFormSubmittedTwiceSharesOnce(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)
	page := b.get(t, "/tickets/new?id=mfa").wantStatus(t, http.StatusOK)
	m := regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]{32})"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("the share form carries no idempotency key:\n%s", page.body)
	}
	if again := b.get(t, "/tickets/new?id=mfa"); strings.Contains(again.body, m[1]) {
		t.Error("two renderings of the form share a key")
	}
	form := url.Values{"id": {"mfa"}, "type": {"incident"}, "name": {"Once"}, "priority": {"2"}, idempotencyField: {m[1]}}
	first := b.postForm(t, "/tickets", form).wantStatus(t, http.StatusSeeOther)
	second := b.postForm(t, "/tickets", form).wantStatus(t, http.StatusSeeOther)
	if first.Header.Get("Location") != second.Header.Get("Location") {
		t.Errorf("second submit went to %q, first to %q", second.Header.Get("Location"), first.Header.Get("Location"))
	}
	if n := ticketCount(t, b, "mfa"); n != 1 {
		t.Fatalf("%d tickets after submitting the form twice, want 1", n)
	}
}

// Recommendations and connections created over the API are idempotent
// too, and keys belong to whoever sent them: another principal's same key
// is its own.
func TestIdempotentCreatesPerPrincipal(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	admin := bearerHeader(b.bearer[scorebridge.RoleAdmin])
	body := `{"title":"Rotate keys","category":"Data","maxScore":5}`
	first := sendKeyed(t, b.testBundle, http.MethodPost, "/api/v1/recommendations", "application/json", body, "rec-1", admin).wantStatus(t, http.StatusCreated)
	again := sendKeyed(t, b.testBundle, http.MethodPost, "/api/v1/recommendations", "application/json", body, "rec-1", admin).wantStatus(t, http.StatusCreated)
	if again.body != first.body || again.Header.Get(replayedHeader) != "true" {
		t.Errorf("retry %q, first %q", again.body, first.body)
	}
	recs, _, err := b.recs.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Query: "Rotate keys"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v recommendations after a retry, %v; want 1", recs, err)
	}
	// Another admin token with the same key creates its own.
	secret, err := b.tokens.CreateAPIToken(context.Background(), &scorebridge.APIToken{Name: "second-admin", Role: scorebridge.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	other := sendKeyed(t, b.testBundle, http.MethodPost, "/api/v1/recommendations", "application/json", body, "rec-1", bearerHeader(secret)).wantStatus(t, http.StatusCreated)
	if other.body == first.body || other.Header.Get(replayedHeader) != "" {
		t.Errorf("another principal got the first principal's answer: %q", other.body)
	}
}
