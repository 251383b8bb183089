package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Environment variables that carry the key.
const (
	// KeyEnv holds the key itself, base64 (standard or URL alphabet,
	// padded or not) of KeySize random bytes.
	KeyEnv = "SCOREBRIDGE_SECRET_KEY"
	// KeyFileEnv names a file holding the key in the same form, for
	// secret stores that mount files.
	KeyFileEnv = "SCOREBRIDGE_SECRET_KEY_FILE"
)

// KeySource says where LoadKey found the key, for the start-up log line.
type KeySource string

// Where a key can come from.
const (
	FromEnv         KeySource = "environment"
	FromFile        KeySource = "key file"
	FromCreatedFile KeySource = "new key file"
)

// LoadKey returns a Box for the configured key. The environment wins; then
// KeyFileEnv; then defaultFile, which is created with a fresh random key and
// 0600 permissions when missing (the embedded default keeps it next to its
// SQLite database). With no environment and defaultFile "" (PostgreSQL,
// where every replica must share one key) it refuses to guess.
func LoadKey(getenv func(string) string, defaultFile string) (*Box, KeySource, error) {
	if v := strings.TrimSpace(getenv(KeyEnv)); v != "" {
		key, err := ParseKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", KeyEnv, err)
		}
		b, err := NewBox(key)
		return b, FromEnv, err
	}
	if path := strings.TrimSpace(getenv(KeyFileEnv)); path != "" {
		b, err := readKeyFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", KeyFileEnv, err)
		}
		return b, FromFile, nil
	}
	if defaultFile == "" {
		return nil, "", fmt.Errorf("no encryption key: set %s to the base64 of %d random bytes (for example: head -c %d /dev/urandom | base64); every replica must use the same key", KeyEnv, KeySize, KeySize)
	}
	b, err := readKeyFile(defaultFile)
	if err == nil {
		return b, FromFile, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	b, err = createKeyFile(defaultFile)
	if err != nil {
		return nil, "", err
	}
	return b, FromCreatedFile, nil
}

// ParseKey decodes a base64 key and checks its length.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("the key must decode to %d bytes, it decodes to %d", KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("the key is not valid base64")
}

// NewKey returns a fresh random key in the base64 form KeyEnv takes.
func NewKey() string {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		panic("secret: the system random source failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(key)
}

func readKeyFile(path string) (*Box, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	// A key others can read is no longer a secret: refuse rather than use it.
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has permissions %v; it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return NewBox(key)
}

// createKeyFile writes a new key with O_EXCL, so two processes starting
// together cannot each write a different key: the loser reads the winner's.
func createKeyFile(path string) (*Box, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	encoded := NewKey()
	if _, err := f.WriteString(encoded + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	key, _ := ParseKey(encoded)
	return NewBox(key)
}
