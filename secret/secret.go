// Package secret encrypts the secrets scorebridge must keep (a ServiceNow
// OAuth client secret, access and refresh tokens) with AES-256-GCM, and
// loads the key that does it: from SCOREBRIDGE_SECRET_KEY, from a file named
// by SCOREBRIDGE_SECRET_KEY_FILE, or, for the embedded default, from a key
// file created next to the SQLite database with 0600 permissions.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// prefix marks the format of a sealed value, so a later format can be told
// apart and a value that was never sealed is refused instead of misread.
const prefix = "v1."

// ErrOpen is returned when a sealed value cannot be decrypted: it was sealed
// with another key, for another purpose, or it was altered.
var ErrOpen = errors.New("secret: cannot decrypt: the value was sealed with another key (check SCOREBRIDGE_SECRET_KEY) or has been altered")

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	id   string
}

// NewBox returns a Box for a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: the key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	sum := sha256.Sum256(append([]byte("scorebridge key id\x00"), key...))
	return &Box{aead: aead, id: base64.RawURLEncoding.EncodeToString(sum[:6])}, nil
}

// KeyID names the key without revealing it, so a log line can say which key
// is in use and an operator can tell two replicas' keys apart.
func (b *Box) KeyID() string { return b.id }

// Seal encrypts plaintext. The purpose (for example "connection/<id>/refresh_token")
// is authenticated but not stored: a sealed value only opens for the same
// purpose, so values cannot be swapped between rows or columns. The result is
// printable text; an empty plaintext seals to "" so that "no value" stays
// visible without decrypting.
func (b *Box) Seal(plaintext, purpose string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secret: read random nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with the same purpose. It returns
// ErrOpen when the key or purpose differ or the value was altered.
func (b *Box) Open(sealed, purpose string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", fmt.Errorf("secret: not a sealed value (it lacks the %q prefix)", prefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}
