package connection_test

import (
	"context"
	"testing"
)

// An authorization tells OnAuthorized's function, before it returns, so
// the tickets waiting for the connection resume at once.
func TestAuthorizationResumesWaitingWork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var heard []string
	b.svc.OnAuthorized(func(_ context.Context, id string) error {
		heard = append(heard, id)
		return nil
	})
	c, _ := b.connected(t)
	if len(heard) != 1 || heard[0] != c.ID {
		t.Fatalf("heard of %v, want the authorized connection %s once", heard, c.ID)
	}
}
