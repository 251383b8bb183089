package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestIdempotency_ClaimCompleteReplayExpire(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, clock := openTest(t, b)
		s := sqlstore.NewIdempotencyStore(db)
		if rec, err := s.ClaimIdempotencyKey(ctx, "alice", "k1", "fp1"); err != nil || rec != nil {
			t.Fatalf("first claim = %+v, %v; want the key claimed", rec, err)
		}
		// While the first request runs, the key is held without an answer.
		rec, err := s.ClaimIdempotencyKey(ctx, "alice", "k1", "fp1")
		if err != nil || rec == nil || rec.Response != nil || rec.Fingerprint != "fp1" {
			t.Fatalf("claim while running = %+v, %v", rec, err)
		}
		// Keys are per principal.
		if rec, err := s.ClaimIdempotencyKey(ctx, "bob", "k1", "fp9"); err != nil || rec != nil {
			t.Fatalf("another principal's key = %+v, %v; want it free", rec, err)
		}
		want := &scorebridge.IdempotentResponse{Status: 202, ContentType: "application/json", Location: "/api/v1/tickets/t1", Body: []byte(`{"id":"t1"}`)}
		if err := s.CompleteIdempotencyKey(ctx, "alice", "k1", want); err != nil {
			t.Fatal(err)
		}
		clock.Advance(23 * time.Hour)
		rec, err = s.ClaimIdempotencyKey(ctx, "alice", "k1", "fp2")
		if err != nil || rec == nil || rec.Fingerprint != "fp1" || rec.Response == nil || rec.Response.Status != 202 ||
			rec.Response.Location != want.Location || string(rec.Response.Body) != string(want.Body) || rec.Response.ContentType != want.ContentType {
			t.Fatalf("replay after 23h = %+v (%+v), %v", rec, rec.Response, err)
		}
		// After a day the key is free again.
		clock.Advance(2 * time.Hour)
		if rec, err := s.ClaimIdempotencyKey(ctx, "alice", "k1", "fp2"); err != nil || rec != nil {
			t.Fatalf("claim after 25h = %+v, %v; want it free", rec, err)
		}
		// A released key is free at once; a claim whose request died is
		// free after IdempotencyClaimTTL.
		if err := s.ReleaseIdempotencyKey(ctx, "alice", "k1"); err != nil {
			t.Fatal(err)
		}
		if rec, _ := s.ClaimIdempotencyKey(ctx, "alice", "k1", "fp3"); rec != nil {
			t.Fatalf("released key held %+v", rec)
		}
		clock.Advance(scorebridge.IdempotencyClaimTTL + time.Second)
		if rec, _ := s.ClaimIdempotencyKey(ctx, "alice", "k1", "fp4"); rec != nil {
			t.Fatalf("stale claim held %+v", rec)
		}
	})
}
