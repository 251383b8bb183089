package snowsim

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OAuth 2.0 as a ServiceNow instance serves it (r_OAuthAPIRequestParameters.md,
// r_OAuthAPIResponseParameters.md, t_RevokeOAuthToken.md,
// client-credentials.md):
//
//   - POST /oauth_token.do, form-encoded only, with grant_type
//     authorization_code (code, redirect_uri, code_verifier when the code was
//     issued for a PKCE challenge), refresh_token, password (username,
//     password), or client_credentials when the system property
//     glide.oauth.inbound.client.credential.grant_type.enabled is true.
//     client_id and client_secret are always required, as form fields or as
//     HTTP Basic client authentication.
//   - Success: {"access_token","refresh_token","scope":"useraccount",
//     "token_type":"Bearer","expires_in":N} with N one second less than the
//     client's access_token_lifespan (1800 by default). A refresh returns a
//     new access token and the same refresh token, whose expiry does not move.
//     client_credentials returns no refresh token.
//   - Any refusal (unknown client, wrong secret, wrong user or password, bad
//     or replayed code, wrong redirect_uri or code_verifier, expired refresh
//     token, JSON body, disabled grant): 401
//     {"error":"server_error","error_description":"access_denied"}. An unknown
//     grant_type: 400 {"error":"unsupported_grant_type",...} (RFC 6749).
//   - Tokens are rows of oauth_credential (type access_token or
//     refresh_token, user, peer = the oauth_entity, expires in UTC, parent =
//     the refresh token's row for an access token), with only a digest of the
//     token stored, so no Table API answer can hand a token out. Deleting the
//     row revokes the token; so does GET or POST
//     /oauth_revoke_token.do?token=..., which needs no authentication and marks
//     the token (and, for a refresh token, its access tokens) expired.
//   - Expiry uses the instance's clock (Options.Clock).
//   - Every password or authorization_code grant issues a new token pair; the
//     documentation's "access requests made within the expiration time of the
//     access token always return the current access token" is not modelled,
//     since a client cannot rely on it either way.

// Token types in oauth_credential.type.
const (
	tokenAccess  = "access_token"
	tokenRefresh = "refresh_token"
)

// authCodeLifespan is how long an authorization code can be exchanged.
const authCodeLifespan = 60 * time.Second

type oauthServer struct {
	in *Instance

	mu    sync.Mutex
	codes map[string]*authCode // by digest of the code
	index map[string]string    // token digest -> oauth_credential sys_id
}

// authCode is an issued, not yet exchanged authorization code. Codes live in
// memory only: a restart invalidates them, which a client survives by
// authorizing again.
type authCode struct {
	clientSysID string
	userID      string
	redirectURI string
	challenge   string // PKCE S256 challenge, "" without PKCE
	expires     time.Time
}

func newOAuthServer(in *Instance) *oauthServer {
	return &oauthServer{in: in, codes: map[string]*authCode{}, index: map[string]string{}}
}

func (o *oauthServer) routes() {
	o.in.Handle("POST /oauth_token.do", http.HandlerFunc(o.token))
	o.in.Handle("/oauth_revoke_token.do", http.HandlerFunc(o.revoke))
	o.in.Handle("GET /oauth_auth.do", http.HandlerFunc(o.authorizePage))
	o.in.Handle("POST /oauth_auth.do", http.HandlerFunc(o.authorizeDecision))
}

// tokenResponse is the body of a successful token request.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// oauthDenied is the instance's answer to every refused token request.
func oauthDenied(w http.ResponseWriter) {
	writeOAuthJSON(w, http.StatusUnauthorized, map[string]string{"error": "server_error", "error_description": "access_denied"})
}

func writeOAuthJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// token serves POST /oauth_token.do.
func (o *oauthServer) token(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		// The documentation: "A content-type of application/json results
		// in an unspecified error." The instance reads no parameters and
		// so refuses the client.
		oauthDenied(w)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		oauthDenied(w)
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if clientID == "" && secret == "" {
		// HTTP Basic client authentication (client_secret_basic).
		if id, s, ok := r.BasicAuth(); ok {
			clientID, secret = id, s
		}
	}
	client, ok := o.client(clientID)
	if !ok || !SecretMatches(client["client_secret"], secret) {
		oauthDenied(w)
		return
	}
	var resp *tokenResponse
	switch f.Get("grant_type") {
	case "password":
		userID, known := o.checkUser(f.Get("username"), f.Get("password"))
		if !known {
			oauthDenied(w)
			return
		}
		resp, ok = o.issue(client, userID, true)
	case "authorization_code":
		resp, ok = o.exchangeCode(client, f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"))
	case "refresh_token":
		resp, ok = o.refresh(client, f.Get("refresh_token"))
	case "client_credentials":
		if o.in.Property("glide.oauth.inbound.client.credential.grant_type.enabled") != "true" || client["user"] == "" {
			oauthDenied(w)
			return
		}
		if _, active := o.in.SessionFor(client["user"]); !active {
			oauthDenied(w)
			return
		}
		resp, ok = o.issue(client, client["user"], false)
	default:
		writeOAuthJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type",
			"error_description": "grant_type must be authorization_code, refresh_token, password or client_credentials"})
		return
	}
	if !ok {
		oauthDenied(w)
		return
	}
	writeOAuthJSON(w, http.StatusOK, resp)
}

// client returns the active Application Registry entry with client_id.
func (o *oauthServer) client(clientID string) (Record, bool) {
	if clientID == "" {
		return nil, false
	}
	in := o.in
	in.mu.RLock()
	defer in.mu.RUnlock()
	var found Record
	in.scanLocked(in.tables["oauth_entity"], func(rec Record) bool {
		if rec["client_id"] == clientID {
			found = rec.Clone()
			return false
		}
		return true
	})
	if found == nil || found["active"] != "true" {
		return nil, false
	}
	return found, true
}

// checkUser verifies a user's password and that the user may log in
// (active, not locked out).
func (o *oauthServer) checkUser(userName, password string) (string, bool) {
	s, err := o.in.BasicLogin(userName, password)
	if err != nil {
		return "", false
	}
	return s.UserID, true
}

// lifespan reads a lifespan field of the client in seconds, with the
// platform default when it is empty or not a positive number.
func lifespan(client Record, field string, def int) time.Duration {
	n, err := strconv.Atoi(client[field])
	if err != nil || n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

// newToken returns a fresh opaque token: 64 random bytes, URL-safe.
func newToken() string {
	var b [64]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// issue stores and returns a new access token for userID, with a new refresh
// token when withRefresh is true.
func (o *oauthServer) issue(client Record, userID string, withRefresh bool) (*tokenResponse, bool) {
	now := o.in.clock()
	resp := &tokenResponse{Scope: "useraccount", TokenType: "Bearer"}
	parent := ""
	if withRefresh {
		resp.RefreshToken = newToken()
		rec, err := o.store(client, userID, tokenRefresh, resp.RefreshToken, now.Add(lifespan(client, "refresh_token_lifespan", 8640000)), "")
		if err != nil {
			return nil, false
		}
		parent = rec["sys_id"]
	}
	return o.issueAccess(client, userID, parent, resp, now)
}

func (o *oauthServer) issueAccess(client Record, userID, parent string, resp *tokenResponse, now time.Time) (*tokenResponse, bool) {
	life := lifespan(client, "access_token_lifespan", 1800)
	resp.AccessToken = newToken()
	if _, err := o.store(client, userID, tokenAccess, resp.AccessToken, now.Add(life), parent); err != nil {
		return nil, false
	}
	// The instance reports one second less than the lifespan, as real
	// instances answer 1799 for the default 1800.
	resp.ExpiresIn = int(life/time.Second) - 1
	return resp, true
}

// store writes a token row; the token field keeps only the digest.
func (o *oauthServer) store(client Record, userID, kind, token string, expires time.Time, parent string) (Record, error) {
	rec, err := o.in.Insert("oauth_credential", map[string]string{
		"name":    client["name"],
		"type":    kind,
		"token":   token, // hashed by the field type (HashSecret)
		"peer":    client["sys_id"],
		"user":    userID,
		"expires": expires.UTC().Format(timeFormat),
		"scopes":  "useraccount",
		"parent":  parent,
	})
	if err == nil {
		o.mu.Lock()
		o.index[rec["token"]] = rec["sys_id"]
		o.mu.Unlock()
	}
	return rec, err
}

// credential finds the oauth_credential row of a token of the given type
// that has not expired. The row is the truth (deleting it revokes the
// token); an index from digest to sys_id only spares the scan, and is
// checked against the row on every use.
func (o *oauthServer) credential(token, kind string) (Record, bool) {
	if token == "" {
		return nil, false
	}
	digest := HashSecret(token)
	now := o.in.clock().Format(timeFormat)
	in := o.in
	matches := func(rec Record) bool {
		return rec != nil && rec["sys_class_name"] == "oauth_credential" && rec["type"] == kind &&
			subtle.ConstantTimeCompare([]byte(rec["token"]), []byte(digest)) == 1
	}
	o.mu.Lock()
	id := o.index[digest]
	o.mu.Unlock()
	in.mu.RLock()
	var found Record
	if rec := in.byID[id]; id != "" && matches(rec) {
		found = rec.Clone()
	} else {
		in.scanLocked(in.tables["oauth_credential"], func(rec Record) bool {
			if matches(rec) {
				found = rec.Clone()
				return false
			}
			return true
		})
	}
	in.mu.RUnlock()
	if found == nil {
		return nil, false
	}
	o.mu.Lock()
	o.index[digest] = found["sys_id"]
	o.mu.Unlock()
	// Stored times are UTC in a fixed layout, so they compare as strings.
	if found["expires"] <= now {
		return nil, false
	}
	return found, true
}

// refresh serves the refresh_token grant.
func (o *oauthServer) refresh(client Record, token string) (*tokenResponse, bool) {
	rec, ok := o.credential(token, tokenRefresh)
	if !ok || rec["peer"] != client["sys_id"] {
		return nil, false
	}
	if _, ok := o.in.SessionFor(rec["user"]); !ok {
		return nil, false
	}
	resp := &tokenResponse{Scope: "useraccount", TokenType: "Bearer", RefreshToken: token}
	return o.issueAccess(client, rec["user"], rec["sys_id"], resp, o.in.clock())
}

// newAuthCode records an authorization code for the consent a user gave.
func (o *oauthServer) newAuthCode(client Record, userID, redirectURI, challenge string) string {
	code := newToken()
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.in.clock()
	for k, c := range o.codes {
		if !now.Before(c.expires) {
			delete(o.codes, k)
		}
	}
	o.codes[HashSecret(code)] = &authCode{
		clientSysID: client["sys_id"], userID: userID, redirectURI: redirectURI,
		challenge: challenge, expires: now.Add(authCodeLifespan),
	}
	return code
}

// exchangeCode serves the authorization_code grant. A code is consumed by
// its first exchange, successful or not.
func (o *oauthServer) exchangeCode(client Record, code, redirectURI, verifier string) (*tokenResponse, bool) {
	if code == "" {
		return nil, false
	}
	o.mu.Lock()
	c := o.codes[HashSecret(code)]
	delete(o.codes, HashSecret(code))
	o.mu.Unlock()
	if c == nil {
		return nil, false
	}
	if redirectURI == "" && c.redirectURI == strings.TrimSpace(client["redirect_url"]) {
		// A client with one registered Redirect URL may leave it out, as it
		// may on the authorization request.
		redirectURI = c.redirectURI
	}
	if !o.in.clock().Before(c.expires) || c.clientSysID != client["sys_id"] || c.redirectURI != redirectURI {
		return nil, false
	}
	if c.challenge != "" {
		sum := sha256.Sum256([]byte(verifier))
		if verifier == "" || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
			return nil, false
		}
	}
	if _, ok := o.in.SessionFor(c.userID); !ok {
		return nil, false
	}
	return o.issue(client, c.userID, true)
}

// revoke serves /oauth_revoke_token.do?token=...: the token is marked
// expired. The endpoint needs no authentication and answers 200 whether or
// not the token was known, so it reveals nothing.
func (o *oauthServer) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	token := strings.TrimSpace(r.FormValue("token"))
	now := o.in.clock().Format(timeFormat)
	for _, kind := range []string{tokenAccess, tokenRefresh} {
		rec, ok := o.credential(token, kind)
		if !ok {
			continue
		}
		_, _ = o.in.Update("oauth_credential", rec["sys_id"], map[string]string{"expires": now})
		if kind == tokenRefresh {
			children, _ := o.in.Query("oauth_credential", "type=access_token^parent="+rec["sys_id"])
			for _, c := range children {
				if c["expires"] > now {
					_, _ = o.in.Update("oauth_credential", c["sys_id"], map[string]string{"expires": now})
				}
			}
		}
	}
	writeOAuthJSON(w, http.StatusOK, map[string]string{})
}
