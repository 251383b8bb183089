package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	code, out, errOut := runCmd(t, nil, "token", "create", "--name", "ci", "--role", "operator", "--expires", "30d", "--db", dbPath)
	if code != 0 {
		t.Fatalf("token create = %d: %s", code, errOut)
	}
	secretOut := strings.TrimSpace(out)
	if !strings.HasPrefix(secretOut, scorebridge.APITokenPrefix) || strings.Contains(secretOut, "\n") {
		t.Fatalf("token create must print the token alone on stdout, got %q", out)
	}
	if !strings.Contains(errOut, "shown only now") || strings.Contains(errOut, secretOut) {
		t.Errorf("token create message %q", errOut)
	}

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tokens := sqlstore.NewAPITokenStore(db)
	tok, err := tokens.AuthenticateAPIToken(ctx, secretOut)
	if err != nil || tok.Role != scorebridge.RoleOperator || tok.ExpiresAt == nil || time.Until(*tok.ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("created token: %+v, %v", tok, err)
	}

	code, out, _ = runCmd(t, map[string]string{"SCOREBRIDGE_DB": dbPath}, "token", "list")
	if code != 0 || !strings.Contains(out, tok.ID) || !strings.Contains(out, "ci") || !strings.Contains(out, "active until") || strings.Contains(out, secretOut) {
		t.Fatalf("token list = %d:\n%s", code, out)
	}
	if code, out, _ = runCmd(t, nil, "token", "revoke", "--db", dbPath, tok.ID); code != 0 || !strings.Contains(out, "Revoked") {
		t.Fatalf("token revoke = %d: %s", code, out)
	}
	if _, err := tokens.AuthenticateAPIToken(ctx, secretOut); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
		t.Fatalf("revoked token still works: %v", err)
	}
	if _, out, _ = runCmd(t, nil, "token", "list", "--db", dbPath); !strings.Contains(out, "revoked") {
		t.Errorf("list after revoke:\n%s", out)
	}
	events, _, _ := sqlstore.NewAuditStore(db).FindAuditEvents(ctx, scorebridge.AuditFilter{Actor: "cli"})
	if len(events) != 2 || events[0].Action != scorebridge.AuditTokenRevoke || events[1].Action != scorebridge.AuditTokenCreate {
		t.Errorf("audit of token commands: %+v", events)
	}
	raw, _ := os.ReadFile(dbPath)
	wal, _ := os.ReadFile(dbPath + "-wal")
	if bytes.Contains(append(raw, wal...), []byte(secretOut)) {
		t.Error("the token is in the database file")
	}

	for _, bad := range [][]string{
		{"token"},
		{"token", "create", "--db", dbPath, "--role", "operator"},
		{"token", "create", "--db", dbPath, "--name", "x", "--role", "root"},
		{"token", "create", "--db", dbPath, "--name", "x", "--role", "reader", "--expires", "soon"},
		{"token", "create", "--db", dbPath, "--name", "x", "--role", "reader", "--expires", "2020-01-01"},
		{"token", "revoke", "--db", dbPath},
		{"token", "frobnicate"},
	} {
		if code, _, errOut := runCmd(t, nil, bad...); code != 2 || errOut == "" {
			t.Errorf("%q = %d (%q), want a usage error", bad, code, errOut)
		}
	}
	if code, _, errOut := runCmd(t, nil, "token", "revoke", "--db", dbPath, "no-such-token"); code != 1 || !strings.Contains(errOut, "No API token") {
		t.Errorf("revoke unknown = %d, %q", code, errOut)
	}
}

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"30d":        now.Add(30 * 24 * time.Hour),
		"12h":        now.Add(12 * time.Hour),
		"2027-01-31": time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0d", "-1h", "d", "tomorrow", "2026-11-24"} {
		if _, err := parseExpiry(bad, now); err == nil {
			t.Errorf("parseExpiry(%q) accepted", bad)
		}
	}
}

// storeConnection seals a connection's secrets with the key the center
// would load for dbPath.
func storeConnection(t *testing.T, dbPath string, getenv func(string) string, defaultKeyFile string) {
	t.Helper()
	ctx := context.Background()
	box, _, err := secret.LoadKey(getenv, defaultKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlstore.NewConnectionStore(db, box)
	if err := s.CreateConnection(ctx, &scorebridge.Connection{ID: "c1", InstanceURL: "https://acme.service-now.com", ClientID: "cid"}, "the-client-secret-value", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveAuthorization(ctx, "c1", "integration", "integration", scorebridge.ConnectionTokens{AccessToken: "the-access-token", RefreshToken: "the-refresh-token",
		AccessTokenExpiresAt: time.Now().Add(time.Hour), RefreshTokenExpiresAt: time.Now().Add(24 * time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
}

func openConnectionSecrets(t *testing.T, dbPath string, getenv func(string) string) (*scorebridge.ConnectionSecrets, error) {
	t.Helper()
	box, _, err := secret.LoadKey(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, sec, err := sqlstore.NewConnectionStore(db, box).FindConnectionSecrets(context.Background(), "c1")
	return sec, err
}

func TestSecretsRotateKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "center.db")
	keyFile := dbPath + ".key"
	none := func(string) string { return "" }
	storeConnection(t, dbPath, none, keyFile)
	before, _ := os.ReadFile(keyFile)

	code, out, errOut := runCmd(t, nil, "secrets", "rotate", "--db", dbPath)
	if code != 0 || !strings.Contains(out, "Re-sealed 3 secrets") {
		t.Fatalf("secrets rotate = %d: %s %s", code, out, errOut)
	}
	after, _ := os.ReadFile(keyFile)
	if bytes.Equal(before, after) || len(after) == 0 {
		t.Fatal("the key file was not replaced")
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("new key file mode %v", fi.Mode().Perm())
	}
	if _, err := os.Stat(keyFile + ".new"); err == nil {
		t.Error("the temporary key file was left behind")
	}
	fromFile := func(k string) string {
		if k == secret.KeyFileEnv {
			return keyFile
		}
		return ""
	}
	sec, err := openConnectionSecrets(t, dbPath, fromFile)
	if err != nil || sec.ClientSecret != "the-client-secret-value" || sec.RefreshToken != "the-refresh-token" {
		t.Fatalf("connection after rotation: %+v, %v", sec, err)
	}
	if strings.Contains(out+errOut, strings.TrimSpace(string(after))) || strings.Contains(out+errOut, strings.TrimSpace(string(before))) {
		t.Error("a key was printed")
	}
	// Rotating twice works too.
	if code, _, errOut := runCmd(t, nil, "secrets", "rotate", "--db", dbPath); code != 0 {
		t.Fatalf("second rotation = %d: %s", code, errOut)
	}
	if sec, err := openConnectionSecrets(t, dbPath, fromFile); err != nil || sec.AccessToken != "the-access-token" {
		t.Fatalf("after the second rotation: %+v, %v", sec, err)
	}
}

func TestSecretsRotateEnvironmentKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "center.db")
	env := map[string]string{secret.KeyEnv: secret.NewKey()}
	storeConnection(t, dbPath, func(k string) string { return env[k] }, "")

	if code, _, errOut := runCmd(t, env, "secrets", "rotate", "--db", dbPath); code != 2 || !strings.Contains(errOut, "--new-key-file") {
		t.Fatalf("rotation of an environment key without --new-key-file = %d, %q", code, errOut)
	}
	newKey := filepath.Join(dir, "new.key")
	if code, out, errOut := runCmd(t, env, "secrets", "rotate", "--db", dbPath, "--new-key-file", newKey); code != 0 || !strings.Contains(out, secret.KeyEnv) {
		t.Fatalf("rotate = %d: %s %s", code, out, errOut)
	}
	if _, err := openConnectionSecrets(t, dbPath, func(k string) string { return env[k] }); err == nil {
		t.Fatal("the old key still opens the secrets")
	}
	data, _ := os.ReadFile(newKey)
	newEnv := map[string]string{secret.KeyEnv: strings.TrimSpace(string(data))}
	if sec, err := openConnectionSecrets(t, dbPath, func(k string) string { return newEnv[k] }); err != nil || sec.ClientSecret != "the-client-secret-value" {
		t.Fatalf("with the new key: %+v, %v", sec, err)
	}
	// A wrong current key changes nothing and leaves no new key behind.
	wrong := map[string]string{secret.KeyEnv: secret.NewKey()}
	other := filepath.Join(dir, "other.key")
	if code, _, errOut := runCmd(t, wrong, "secrets", "rotate", "--db", dbPath, "--new-key-file", other); code != 1 || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("rotation with a wrong key = %d, %q", code, errOut)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a failed rotation left its new key file")
	}
	if code, _, _ := runCmd(t, nil, "secrets", "rotate", "--db", filepath.Join(dir, "nokey.db")); code != 1 {
		t.Errorf("rotation without a key file = %d", code)
	}
}
