package secret_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/secret"
)

func newBox(t *testing.T) *secret.Box {
	t.Helper()
	key, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	const plain = "s3cr3t-refresh-token"
	sealed, err := b.Seal(plain, "connection/1/refresh_token")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, plain) {
		t.Fatalf("sealed value %q contains the plaintext", sealed)
	}
	again, _ := b.Seal(plain, "connection/1/refresh_token")
	if again == sealed {
		t.Fatal("two seals of the same value are equal; the nonce is not random")
	}
	got, err := b.Open(sealed, "connection/1/refresh_token")
	if err != nil || got != plain {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}
	// Another purpose, another key or an altered value must not open.
	if _, err := b.Open(sealed, "connection/2/refresh_token"); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("open for another purpose: err = %v, want ErrOpen", err)
	}
	if _, err := newBox(t).Open(sealed, "connection/1/refresh_token"); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("open with another key: err = %v, want ErrOpen", err)
	}
	altered := sealed[:len(sealed)-2] + "AA"
	if altered == sealed {
		altered = sealed[:len(sealed)-2] + "BB"
	}
	if _, err := b.Open(altered, "connection/1/refresh_token"); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("open altered value: err = %v, want ErrOpen", err)
	}
	if _, err := b.Open(plain, "connection/1/refresh_token"); err == nil {
		t.Error("a value that was never sealed opened")
	}
	if s, err := b.Seal("", "x"); s != "" || err != nil {
		t.Errorf(`Seal("") = %q, %v; want "", nil`, s, err)
	}
}

func TestNewBoxKeyLength(t *testing.T) {
	t.Parallel()
	if _, err := secret.NewBox(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func TestLoadKeyFromEnv(t *testing.T) {
	t.Parallel()
	key := secret.NewKey()
	env := map[string]string{secret.KeyEnv: key}
	b, src, err := secret.LoadKey(func(k string) string { return env[k] }, "")
	if err != nil || src != secret.FromEnv {
		t.Fatalf("LoadKey = %v, %v", src, err)
	}
	sealed, _ := b.Seal("x", "p")
	// The same key in URL base64 without padding is the same key.
	raw, _ := secret.ParseKey(key)
	b2, _ := secret.NewBox(raw)
	if got, err := b2.Open(sealed, "p"); err != nil || got != "x" {
		t.Fatalf("same key does not open: %q, %v", got, err)
	}

	for _, bad := range []string{"not base64 !!", "c2hvcnQ="} {
		env := map[string]string{secret.KeyEnv: bad}
		if _, _, err := secret.LoadKey(func(k string) string { return env[k] }, ""); err == nil || !strings.Contains(err.Error(), secret.KeyEnv) {
			t.Errorf("key %q: err = %v, want an error naming %s", bad, err, secret.KeyEnv)
		}
	}
}

func TestLoadKeyRequiresKeyWithoutDefaultFile(t *testing.T) {
	t.Parallel()
	_, _, err := secret.LoadKey(func(string) string { return "" }, "")
	if err == nil || !strings.Contains(err.Error(), secret.KeyEnv) {
		t.Fatalf("err = %v, want one that names %s", err, secret.KeyEnv)
	}
}

func TestLoadKeyCreatesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "scorebridge.db.key")
	noenv := func(string) string { return "" }
	b, src, err := secret.LoadKey(noenv, path)
	if err != nil || src != secret.FromCreatedFile {
		t.Fatalf("LoadKey = %v, %v", src, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file permissions %v, want 0600", perm)
	}
	sealed, _ := b.Seal("token", "p")
	b2, src, err := secret.LoadKey(noenv, path)
	if err != nil || src != secret.FromFile {
		t.Fatalf("second LoadKey = %v, %v", src, err)
	}
	if b2.KeyID() != b.KeyID() {
		t.Fatal("the key file was not reused")
	}
	if got, err := b2.Open(sealed, "p"); err != nil || got != "token" {
		t.Fatalf("reloaded key does not open: %q, %v", got, err)
	}

	// A key file others can read is refused with the fix.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := secret.LoadKey(noenv, path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: err = %v", err)
	}
}
