package connection_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/snowsim"
)

// TestChecklistFailsClearly: each failing step says what and why, stops
// the run, and leaves no connection behind.
func TestChecklistFailsClearly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		in        func(b *bundle) scorebridge.ChecklistInput
		before    func(b *bundle)
		step, fix string
	}{
		{"wrong admin password", func(b *bundle) scorebridge.ChecklistInput {
			return scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "wrong"}
		}, nil, "Instance reachable, admin credentials accepted", "local password"},
		{"not an admin", func(b *bundle) scorebridge.ChecklistInput {
			return scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: snowsim.UserITIL, AdminPassword: snowsim.DemoPassword}
		}, nil, "Instance reachable, admin credentials accepted", "admin role"},
		{"cross-scope policy", func(b *bundle) scorebridge.ChecklistInput {
			return scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "admin"}
		}, func(b *bundle) { b.sim.SetCrossScopeBlocked(true) }, "OAuth application registry entry", "All application scopes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tc.before != nil {
				tc.before(b)
			}
			res, err := b.svc.RunChecklist(context.Background(), tc.in(b))
			if err != nil {
				t.Fatal(err)
			}
			last := res.Checks[len(res.Checks)-1]
			if last.OK || last.Name != tc.step || !strings.Contains(last.Fix, tc.fix) {
				t.Fatalf("last step = %+v; want %q failing with a fix naming %q", last, tc.step, tc.fix)
			}
			for _, c := range res.Checks[:len(res.Checks)-1] {
				if !c.OK {
					t.Fatalf("an earlier step failed too: %+v", c)
				}
			}
			if res.Connection != nil {
				t.Fatal("a failed checklist returned a connection")
			}
			if all, _ := b.svc.FindConnections(context.Background()); len(all) != 0 {
				t.Fatalf("a failed checklist stored %d connections", len(all))
			}
		})
	}
}

// TestChecklistRunsAgain: a second run reuses the integration user and the
// Application Registry entry, rotates the client secret and updates the
// same connection, which still authorizes.
func TestChecklistRunsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	first, _ := b.checklist(t)
	// Asked first: the existing integration user keeps its password, and
	// nothing after that step runs, until the admin confirms.
	before, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
	res, err := b.svc.RunChecklist(ctx, scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if last := res.Checks[len(res.Checks)-1]; last.OK || last.Name != "Integration user" || !strings.Contains(last.Message, "already exists") ||
		!strings.Contains(last.Message, "new password") || !strings.Contains(last.Fix, "Reset the password") || res.Connection != nil || res.IntegrationPassword != "" {
		t.Fatalf("a second run without confirming: %+v", res)
	}
	if after, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser); after[0]["sys_updated_on"] != before[0]["sys_updated_on"] || after[0]["sys_mod_count"] != before[0]["sys_mod_count"] {
		t.Fatalf("the unconfirmed run changed the integration user: %v -> %v", before[0], after[0])
	}
	second, pw := b.checklist(t)
	if second.ID != first.ID || second.ClientID != first.ClientID {
		t.Fatalf("second run made connection %s (client %s), want the first %s (client %s)", second.ID, second.ClientID, first.ID, first.ClientID)
	}
	if users, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser); len(users) != 1 {
		t.Fatalf("%d integration users after two runs", len(users))
	}
	if entities, _ := b.sim.Query("oauth_entity", "name="+connection.ApplicationName); len(entities) != 1 {
		t.Fatalf("%d application registry entries after two runs", len(entities))
	}
	if c := b.authorize(t, second.ID, connection.DefaultIntegrationUser, pw); c.Status != scorebridge.ConnectionConnected {
		t.Fatalf("after authorization: %+v", c)
	}
	// The checklist refuses an integration user with elevated roles.
	users, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
	roles, _ := b.sim.Query("sys_user_role", "name=admin")
	if _, err := b.sim.Insert("sys_user_has_role", map[string]string{"user": users[0]["sys_id"], "role": roles[0]["sys_id"]}); err != nil {
		t.Fatal(err)
	}
	res, err = b.svc.RunChecklist(ctx, scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "admin", ResetPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Checks[len(res.Checks)-1]
	if last.OK || last.Name != "Integration user roles" || !strings.Contains(last.Message, "admin") || !strings.Contains(last.Fix, "Remove") {
		t.Fatalf("checklist with an admin integration user: %+v", last)
	}
	_, err = b.svc.RunChecklist(ctx, scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "admin", IntegrationPassword: "short"})
	wantCode(t, err, scorebridge.EINVALID)
}
