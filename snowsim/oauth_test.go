package snowsim_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

func pkcePair(verifier string) (string, string) {
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authorizeURL(e *simEnv, state, challenge string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {testClientID}, "redirect_uri": {testRedirect}, "state": {state}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return e.srv.URL + "/oauth_auth.do?" + q.Encode()
}

// authorize drives the browser through login and consent and returns the
// redirect back to the client.
func authorize(t *testing.T, e *simEnv, c *http.Client, state, challenge, button string) *url.URL {
	t.Helper()
	p := fetch(t, c, http.MethodGet, authorizeURL(e, state, challenge), nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="user_name"`) {
		t.Fatalf("authorize without login: want the login form, got %d: %s", p.status, p.body)
	}
	form := hiddenFields(p.body)
	form.Set("user_name", "admin")
	form.Set("user_password", "admin")
	p = fetch(t, c, http.MethodPost, e.srv.URL+"/login.do", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", p.status, p.body)
	}
	back := p.location(t)
	if back.Path != "/oauth_auth.do" {
		t.Fatalf("login went to %s, want back to /oauth_auth.do", back)
	}
	p = fetch(t, c, http.MethodGet, e.srv.URL+back.String(), nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, "scorebridge would like to connect") ||
		!strings.Contains(p.body, `name="allow"`) || !strings.Contains(p.body, `name="deny"`) {
		t.Fatalf("consent page: %d %s", p.status, p.body)
	}
	form = hiddenFields(p.body)
	form.Set(button, button)
	p = fetch(t, c, http.MethodPost, e.srv.URL+"/oauth_auth.do", form)
	if p.status != http.StatusFound {
		t.Fatalf("consent %s: %d %s", button, p.status, p.body)
	}
	return p.location(t)
}

func codeGrant(e *simEnv, code, redirect, verifier string) url.Values {
	v := url.Values{"grant_type": {"authorization_code"}, "client_id": {testClientID}, "client_secret": {testClientSecret},
		"code": {code}}
	if redirect != "" {
		v.Set("redirect_uri", redirect)
	}
	if verifier != "" {
		v.Set("code_verifier", verifier)
	}
	return v
}

func wantDenied(t *testing.T, what string, status int, body map[string]any) {
	t.Helper()
	if status != http.StatusUnauthorized || body["error"] != "server_error" || body["error_description"] != "access_denied" {
		t.Fatalf("%s: want 401 server_error/access_denied, got %d %v", what, status, body)
	}
}

func TestAuthorizationCodeFlowWithStateAndPKCE(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	verifier, challenge := pkcePair("a-verifier-of-enough-length-0123456789-abcdefghijklmnop")

	back := authorize(t, e, e.browser(t), "xyz-state", challenge, "allow")
	if got := back.Scheme + "://" + back.Host + back.Path; got != testRedirect {
		t.Fatalf("redirected to %s, want %s", got, testRedirect)
	}
	if back.Query().Get("state") != "xyz-state" || back.Query().Get("code") == "" {
		t.Fatalf("redirect query %q lacks code or state", back.RawQuery)
	}
	code := back.Query().Get("code")

	// A wrong verifier is refused, and spends the code.
	status, body := e.token(t, codeGrant(e, code, testRedirect, "not-the-verifier"))
	wantDenied(t, "wrong code_verifier", status, body)
	status, body = e.token(t, codeGrant(e, code, testRedirect, verifier))
	wantDenied(t, "code after a failed exchange", status, body)

	// A fresh code with the right verifier works once.
	back = authorize(t, e, e.browser(t), "s2", challenge, "allow")
	code = back.Query().Get("code")
	status, body = e.token(t, codeGrant(e, code, testRedirect, ""))
	wantDenied(t, "PKCE code without verifier", status, body)

	back = authorize(t, e, e.browser(t), "s3", challenge, "allow")
	code = back.Query().Get("code")
	status, body = e.token(t, codeGrant(e, code, testRedirect, verifier))
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	for k, want := range map[string]any{"scope": "useraccount", "token_type": "Bearer", "expires_in": float64(1799)} {
		if body[k] != want {
			t.Errorf("%s = %v, want %v", k, body[k], want)
		}
	}
	if body["access_token"] == "" || body["refresh_token"] == "" {
		t.Fatalf("tokens missing: %v", body)
	}
	status, body = e.token(t, codeGrant(e, code, testRedirect, verifier))
	wantDenied(t, "replayed code", status, body)

	// The redirect_uri of the exchange must be the one of the request.
	back = authorize(t, e, e.browser(t), "s4", challenge, "allow")
	status, body = e.token(t, codeGrant(e, back.Query().Get("code"), "https://evil.example/cb", verifier))
	wantDenied(t, "wrong redirect_uri", status, body)
}

func TestAuthorizationCodeWithoutPKCEAndCodeExpiry(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	back := authorize(t, e, e.browser(t), "st", "", "allow")
	status, body := e.token(t, codeGrant(e, back.Query().Get("code"), testRedirect, ""))
	if status != http.StatusOK {
		t.Fatalf("exchange without PKCE: %d %v", status, body)
	}
	back = authorize(t, e, e.browser(t), "st", "", "allow")
	e.clock.Advance(2 * time.Minute)
	status, body = e.token(t, codeGrant(e, back.Query().Get("code"), testRedirect, ""))
	wantDenied(t, "expired code", status, body)
}

func TestConsentDenyRedirectsWithAccessDenied(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	back := authorize(t, e, e.browser(t), "deny-state", "", "deny")
	q := back.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != "deny-state" || q.Has("code") {
		t.Fatalf("deny redirect query %q", back.RawQuery)
	}
}

func TestAuthorizeRefusesUnknownClientAndForeignRedirect(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	c := e.browser(t)
	for name, q := range map[string]url.Values{
		"unknown client":   {"response_type": {"code"}, "client_id": {"nope"}, "redirect_uri": {testRedirect}, "state": {"s"}},
		"foreign redirect": {"response_type": {"code"}, "client_id": {testClientID}, "redirect_uri": {"https://evil.example/cb"}, "state": {"s"}},
	} {
		p := fetch(t, c, http.MethodGet, e.srv.URL+"/oauth_auth.do?"+q.Encode(), nil)
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.body, "Invalid OAuth request") {
			t.Errorf("%s: want an error page and no redirect, got %d Location=%q", name, p.status, p.header.Get("Location"))
		}
	}
	// A bad response_type with a trusted redirect is answered at the client.
	q := url.Values{"response_type": {"token"}, "client_id": {testClientID}, "redirect_uri": {testRedirect}, "state": {"s"}}
	p := fetch(t, c, http.MethodGet, e.srv.URL+"/oauth_auth.do?"+q.Encode(), nil)
	if p.status != http.StatusFound || p.location(t).Query().Get("error") != "unsupported_response_type" {
		t.Fatalf("response_type=token: %d %v", p.status, p.header)
	}
}

func TestRefreshReturnsSameRefreshTokenWithoutExtendingIt(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	if _, err := e.in.Update("oauth_entity", e.client["sys_id"], map[string]string{
		"access_token_lifespan": "600", "refresh_token_lifespan": "3600"}); err != nil {
		t.Fatal(err)
	}
	first := e.passwordGrant(t, "admin", "admin")
	if first["expires_in"] != float64(599) {
		t.Fatalf("expires_in %v, want the client's lifespan minus one, 599", first["expires_in"])
	}
	refresh := first["refresh_token"].(string)
	grant := url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "client_secret": {testClientSecret}, "refresh_token": {refresh}}

	e.clock.Advance(50 * time.Minute)
	status, second := e.token(t, grant)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, second)
	}
	if second["refresh_token"] != refresh {
		t.Fatalf("refresh returned refresh token %v, want the same one", second["refresh_token"])
	}
	if second["access_token"] == first["access_token"] {
		t.Fatal("refresh returned the old access token")
	}
	// The first access token expired after 10 minutes; the new one works.
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", first["access_token"].(string), ""); p.status != http.StatusUnauthorized {
		t.Fatalf("expired access token: %d", p.status)
	}
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", second["access_token"].(string), ""); p.status != http.StatusOK {
		t.Fatalf("new access token: %d %s", p.status, p.body)
	}
	// The refresh token expires one hour after it was issued, refreshes
	// notwithstanding.
	e.clock.Advance(11 * time.Minute)
	status, body := e.token(t, grant)
	wantDenied(t, "expired refresh token", status, body)
}

func TestPasswordGrantAndClientAuthentication(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	body := e.passwordGrant(t, snowsim.UserITIL, snowsim.DemoPassword)
	if body["refresh_token"] == "" || body["token_type"] != "Bearer" {
		t.Fatalf("password grant: %v", body)
	}
	good := url.Values{"grant_type": {"password"}, "client_id": {testClientID}, "client_secret": {testClientSecret},
		"username": {"admin"}, "password": {"admin"}}
	for name, change := range map[string]func(url.Values){
		"wrong password":  func(v url.Values) { v.Set("password", "nope") },
		"wrong secret":    func(v url.Values) { v.Set("client_secret", "nope") },
		"no secret":       func(v url.Values) { v.Del("client_secret") },
		"unknown client":  func(v url.Values) { v.Set("client_id", "nope") },
		"inactive user":   func(v url.Values) { v.Set("username", snowsim.UserInactive); v.Set("password", snowsim.DemoPassword) },
		"locked-out user": func(v url.Values) { v.Set("username", snowsim.UserLocked); v.Set("password", snowsim.DemoPassword) },
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		status, body := e.token(t, v)
		wantDenied(t, name, status, body)
	}

	// JSON is refused, as the documentation warns.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth_token.do",
		strings.NewReader(`{"grant_type":"password","client_id":"`+testClientID+`","client_secret":"`+testClientSecret+`","username":"admin","password":"admin"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("JSON token request: %d, want 401", res.StatusCode)
	}

	// HTTP Basic client authentication works too.
	v := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin"}}
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/oauth_token.do", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("Basic client authentication: %d", res.StatusCode)
	}
}

func TestClientCredentialsOffByDefault(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	admin, _ := e.in.Query("sys_user", "user_name=admin")
	if _, err := e.in.Update("oauth_entity", e.client["sys_id"], map[string]string{"user": admin[0]["sys_id"]}); err != nil {
		t.Fatal(err)
	}
	grant := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}}
	status, body := e.token(t, grant)
	wantDenied(t, "client_credentials on a fresh instance", status, body)

	if err := e.in.SetClientCredentials(true); err != nil {
		t.Fatal(err)
	}
	status, body = e.token(t, grant)
	if status != http.StatusOK || body["refresh_token"] != nil {
		t.Fatalf("client_credentials enabled: %d %v (want a token and no refresh token)", status, body)
	}
	if p := e.api(t, http.MethodGet, "/api/now/table/sys_user?sysparm_limit=1", body["access_token"].(string), ""); p.status != http.StatusOK {
		t.Fatalf("client_credentials token as the OAuth Application User (admin): %d", p.status)
	}
}

func TestBearerOnTableAPIAndRevocation(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	tok := e.passwordGrant(t, snowsim.UserITIL, snowsim.DemoPassword)
	access := tok["access_token"].(string)

	p := e.api(t, http.MethodPost, "/api/now/table/incident", access, `{"short_description":"via OAuth"}`)
	if p.status != http.StatusCreated || !strings.Contains(p.body, `"sys_created_by":"beth.anglin"`) {
		t.Fatalf("insert with Bearer: %d %s", p.status, p.body)
	}
	// The Bearer user's ACLs apply: itil may not read oauth_credential.
	if p := e.api(t, http.MethodGet, "/api/now/table/oauth_credential", access, ""); p.status != http.StatusForbidden {
		t.Fatalf("itil reading oauth_credential: %d", p.status)
	}
	// No raw token is ever handed out, even to admin.
	p = e.basic(t, http.MethodGet, "/api/now/table/oauth_credential?sysparm_query=type=access_token", "")
	if p.status != http.StatusOK || strings.Contains(p.body, access) || strings.Contains(p.body, tok["refresh_token"].(string)) {
		t.Fatalf("oauth_credential list leaks a token or fails: %d", p.status)
	}

	for name, token := range map[string]string{"unknown": "not-a-token", "empty scheme": ""} {
		p := e.api(t, http.MethodGet, "/api/now/table/incident", token, "")
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "User Not Authenticated") ||
			p.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s token: %d %s", name, p.status, p.body)
		}
	}

	// Deleting the oauth_credential row revokes the token.
	rows, _ := e.in.Query("oauth_credential", "type=access_token")
	for _, r := range rows {
		if p := e.basic(t, http.MethodDelete, "/api/now/table/oauth_credential/"+r["sys_id"], ""); p.status != http.StatusNoContent {
			t.Fatalf("delete credential: %d", p.status)
		}
	}
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", access, ""); p.status != http.StatusUnauthorized {
		t.Fatalf("token after its row was deleted: %d", p.status)
	}

	// oauth_revoke_token.do expires a refresh token and its access tokens.
	tok = e.passwordGrant(t, snowsim.UserITIL, snowsim.DemoPassword)
	rp := fetch(t, http.DefaultClient, http.MethodGet, e.srv.URL+"/oauth_revoke_token.do?token="+url.QueryEscape(tok["refresh_token"].(string)), nil)
	if rp.status != http.StatusOK {
		t.Fatalf("revoke: %d", rp.status)
	}
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", tok["access_token"].(string), ""); p.status != http.StatusUnauthorized {
		t.Fatalf("access token after its refresh token was revoked: %d", p.status)
	}
	status, body := e.token(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID},
		"client_secret": {testClientSecret}, "refresh_token": {tok["refresh_token"].(string)}})
	wantDenied(t, "revoked refresh token", status, body)
}

func TestDeactivatedClientTokensStopWorking(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	tok := e.passwordGrant(t, "admin", "admin")
	if _, err := e.in.Update("oauth_entity", e.client["sys_id"], map[string]string{"active": "false"}); err != nil {
		t.Fatal(err)
	}
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", tok["access_token"].(string), ""); p.status != http.StatusUnauthorized {
		t.Fatalf("token of an inactive application: %d", p.status)
	}
}

func TestAuthorizationCodeWithTheRegisteredRedirectLeftOut(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	c := e.browser(t)
	e.login(t, c, "admin", "admin")
	q := url.Values{"response_type": {"code"}, "client_id": {testClientID}, "state": {"s"}}
	p := fetch(t, c, http.MethodGet, e.srv.URL+"/oauth_auth.do?"+q.Encode(), nil)
	form := hiddenFields(p.body)
	if form.Get("redirect_uri") != testRedirect {
		t.Fatalf("consent form redirect_uri %q, want the registered %q", form.Get("redirect_uri"), testRedirect)
	}
	form.Set("allow", "allow")
	back := fetch(t, c, http.MethodPost, e.srv.URL+"/oauth_auth.do", form).location(t)
	if !strings.HasPrefix(back.String(), testRedirect+"?") {
		t.Fatalf("redirected to %s", back)
	}
	status, body := e.token(t, codeGrant(e, back.Query().Get("code"), "", ""))
	if status != http.StatusOK {
		t.Fatalf("exchange without redirect_uri: %d %v", status, body)
	}
}
