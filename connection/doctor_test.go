package connection_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
)

// findCheck returns the check named name, failing the test when absent.
func findCheck(t *testing.T, checks []scorebridge.Check, name string) scorebridge.Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %q check in %+v", name, checks)
	return scorebridge.Check{}
}

// failing returns the names of the failed checks.
func failing(checks []scorebridge.Check) []string {
	var out []string
	for _, c := range checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestDoctorHealthy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, _ := b.connected(t)
	checks, err := b.svc.Doctor(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := failing(checks); len(f) != 0 {
		t.Fatalf("failing checks on a healthy connection: %v\n%+v", f, checks)
	}
	for _, name := range []string{connection.CheckReachable, connection.CheckClock, connection.CheckApplication, connection.CheckSSO,
		connection.CheckAuthorization, connection.CheckCrossScope, connection.CheckUser, connection.CheckTableAccess, connection.CheckLifespans} {
		findCheck(t, checks, name)
	}
	_, err = b.svc.Doctor(context.Background(), "nope")
	wantCode(t, err, scorebridge.ENOTFOUND)
}

// TestDoctorFindsEachCause breaks the instance one documented way at a
// time and expects exactly that check to fail, with the documented fix.
func TestDoctorFindsEachCause(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		breakIt func(t *testing.T, b *bundle, c *scorebridge.Connection)
		check   string
		says    string // in the message
		fix     string // in the fix
		only    bool   // the only failing check
	}{
		{"cross-scope policy", func(t *testing.T, b *bundle, c *scorebridge.Connection) { b.sim.SetCrossScopeBlocked(true) },
			connection.CheckCrossScope, "cross-scope access policy", "All application scopes", true},
		{"single sign-on", func(t *testing.T, b *bundle, c *scorebridge.Connection) { b.sim.SetSSO(true) },
			connection.CheckSSO, "single sign-on", "side_door.do", true},
		{"redirect URL", func(t *testing.T, b *bundle, c *scorebridge.Connection) {
			setEntity(t, b, c, map[string]string{"redirect_url": "https://elsewhere.example.org/callback"})
		}, connection.CheckApplication, "redirect URL", redirectURL, true},
		{"application missing", func(t *testing.T, b *bundle, c *scorebridge.Connection) {
			setEntity(t, b, c, map[string]string{"active": "false"})
		}, connection.CheckApplication, "no active Application Registry entry", "Application Registry", true},
		{"roles", func(t *testing.T, b *bundle, c *scorebridge.Connection) {
			users, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
			grants, _ := b.sim.Query("sys_user_has_role", "user="+users[0]["sys_id"])
			for _, g := range grants {
				if err := b.sim.Delete("sys_user_has_role", g["sys_id"]); err != nil {
					t.Fatal(err)
				}
			}
		}, connection.CheckTableAccess, "incident and change_request", "itil", true},
		{"user deactivated", func(t *testing.T, b *bundle, c *scorebridge.Connection) {
			users, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
			b.sim.Update("sys_user", users[0]["sys_id"], map[string]string{"active": "false"})
		}, connection.CheckAuthorization, "deactivated", "active", true},
		{"clock skew", func(t *testing.T, b *bundle, c *scorebridge.Connection) { b.skew.Store(int64(10 * time.Minute)) },
			connection.CheckClock, "differ by 10m0s", "NTP", true},
		{"refresh token running out", func(t *testing.T, b *bundle, c *scorebridge.Connection) { b.clock.Advance(90 * 24 * time.Hour) },
			connection.CheckLifespans, "runs out in", "Authorize again", true},
		{"short access tokens", func(t *testing.T, b *bundle, c *scorebridge.Connection) {
			setEntity(t, b, c, map[string]string{"access_token_lifespan": "120"})
			b.clock.Advance(31 * time.Minute) // the next token is a short one
		}, connection.CheckLifespans, "live only about", "1800", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			c, _ := b.connected(t)
			tc.breakIt(t, b, c)
			checks, err := b.svc.Doctor(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := findCheck(t, checks, tc.check)
			if got.OK || !strings.Contains(got.Message, tc.says) || !strings.Contains(got.Fix, tc.fix) {
				t.Fatalf("%s check = %+v; want a failure saying %q with a fix naming %q", tc.check, got, tc.says, tc.fix)
			}
			if f := failing(checks); tc.only && len(f) != 1 {
				t.Fatalf("failing checks %v; one cause must give one failure\n%+v", f, checks)
			}
		})
	}
}

func setEntity(t *testing.T, b *bundle, c *scorebridge.Connection, fields map[string]string) {
	t.Helper()
	entities, _ := b.sim.Query("oauth_entity", "client_id="+c.ClientID)
	if len(entities) != 1 {
		t.Fatalf("%d oauth_entity records for %s", len(entities), c.ClientID)
	}
	if _, err := b.sim.Update("oauth_entity", entities[0]["sys_id"], fields); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorUnreachable: an instance that does not answer, or answers with
// a certificate this machine does not trust, is one failure, not ten.
func TestDoctorUnreachable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	closed := httptest.NewServer(nil)
	closed.Close()
	down, err := b.svc.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: closed.URL, ClientID: "c1", ClientSecret: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	checks, err := b.svc.Doctor(ctx, down.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].OK || checks[0].Name != connection.CheckReachable || !strings.Contains(checks[0].Message, "were not run") {
		t.Fatalf("checks of an unreachable instance: %+v", checks)
	}

	tlsSrv := httptest.NewUnstartedServer(b.sim)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	untrusted, err := b.svc.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: tlsSrv.URL, ClientID: "c2", ClientSecret: "s2"})
	if err != nil {
		t.Fatal(err)
	}
	checks, err = b.svc.Doctor(ctx, untrusted.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].OK || !strings.Contains(checks[0].Message, "certificate") || !strings.Contains(checks[0].Fix, "certificate") {
		t.Fatalf("checks of an instance with an untrusted certificate: %+v", checks)
	}
}

// TestDoctorWrongUser: a connection authorized with an admin's own account
// instead of the integration user is a failed check naming both accounts
// and both ways out; the check is gone once the admin accepts it.
func TestDoctorWrongUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, _ := b.checklist(t)
	b.authorize(t, c.ID, "admin", "admin")
	checks, err := b.svc.Doctor(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := failing(checks); len(f) != 1 || f[0] != connection.CheckAuthorizedAs {
		t.Fatalf("failing checks = %v, want only %q", f, connection.CheckAuthorizedAs)
	}
	ch := findCheck(t, checks, connection.CheckAuthorizedAs)
	for _, want := range []string{"admin", connection.DefaultIntegrationUser} {
		if !strings.Contains(ch.Message, want) {
			t.Errorf("message %q does not name %s", ch.Message, want)
		}
	}
	if !strings.Contains(ch.Fix, "Not you?") || !strings.Contains(ch.Fix, "Keep admin") {
		t.Errorf("fix %q does not offer both ways: authorize again, or keep", ch.Fix)
	}
	if _, err := b.svc.AcceptAuthorizedUser(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	checks, err = b.svc.Doctor(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := failing(checks); len(f) != 0 {
		t.Fatalf("after accepting, failing checks: %v", f)
	}
}
