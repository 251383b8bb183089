package snowsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Conformance cases for OAuth, Bearer authentication, rate limits and the
// login pages: request in, response out, each citing the ServiceNow
// documentation page it comes from (ServiceNowDocs markdown mirror:
// platform-security/authentication/r_OAuthAPIRequestParameters.md,
// r_OAuthAPIResponseParameters.md, t_RevokeOAuthToken.md,
// client-credentials.md, r_ForcingLoginViaSSOOnly.md;
// api-reference/rest-api-explorer/inbound-REST-API-rate-limiting.md) or
// shared/docs/SERVICENOW.md.

type oauthCase struct {
	name  string
	cite  string
	knobs snowsim.Knobs
	// setup prepares the instance and returns placeholders ({access},
	// {refresh}, {rule}, ...) for the request and the expectations.
	setup func(t *testing.T, e *simEnv) map[string]string
	// The request: form is sent form-encoded, json as application/json;
	// auth is "", "basic" (admin) or "bearer:{var}".
	method, path string
	form         url.Values
	json         string
	auth         string
	status       int
	body         string            // exact JSON when set
	header       map[string]string // exact header values; "" means absent
	check        func(t *testing.T, e *simEnv, p page, vars map[string]string)
}

const (
	oauthDeniedBody = `{"error":"server_error","error_description":"access_denied"}`
	notAuthBody     = `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`
)

func passwordForm(user, password string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {testClientID}, "client_secret": {testClientSecret},
		"username": {user}, "password": {password}}
}

// issued gets tokens by the password grant and names them {access} and
// {refresh}.
func issued(user, password string) func(t *testing.T, e *simEnv) map[string]string {
	return func(t *testing.T, e *simEnv) map[string]string {
		tok := e.passwordGrant(t, user, password)
		return map[string]string{"access": tok["access_token"].(string), "refresh": tok["refresh_token"].(string)}
	}
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func (c oauthCase) run(t *testing.T, e *simEnv, vars map[string]string) page {
	t.Helper()
	var body io.Reader
	switch {
	case c.form != nil:
		f := url.Values{}
		for k, vs := range c.form {
			for _, v := range vs {
				f.Add(k, expand(v, vars))
			}
		}
		body = strings.NewReader(f.Encode())
	case c.json != "":
		body = strings.NewReader(expand(c.json, vars))
	}
	req, err := http.NewRequest(c.method, e.srv.URL+expand(c.path, vars), body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case c.json != "":
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.auth == "basic":
		req.SetBasicAuth("admin", "admin")
	case strings.HasPrefix(c.auth, "bearer:"):
		req.Header.Set("Authorization", "Bearer "+expand(strings.TrimPrefix(c.auth, "bearer:"), vars))
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body is not JSON: %s", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %s", want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

func TestConformanceOAuthRateLimitsAndLogin(t *testing.T) {
	t.Parallel()
	top := strconv.FormatInt(time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC).Unix(), 10)
	cases := []oauthCase{
		// --- /oauth_token.do ---
		{name: "password grant", cite: "r_OAuthAPIRequestParameters.md, Requests Using User Credentials: access and refresh token; r_OAuthAPIResponseParameters.md: scope useraccount, token_type Bearer",
			method: "POST", path: "/oauth_token.do", form: passwordForm("admin", "admin"), status: 200,
			header: map[string]string{"Content-Type": "application/json;charset=UTF-8"},
			check: func(t *testing.T, _ *simEnv, p page, _ map[string]string) {
				var b map[string]any
				_ = json.Unmarshal([]byte(p.body), &b)
				if b["scope"] != "useraccount" || b["token_type"] != "Bearer" || b["expires_in"] != float64(1799) ||
					b["access_token"] == "" || b["refresh_token"] == "" {
					t.Fatalf("token response %s", p.body)
				}
			}},
		{name: "JSON body refused", cite: "r_OAuthAPIRequestParameters.md note: a content-type of application/json results in an error; SERVICENOW.md Authentication",
			method: "POST", path: "/oauth_token.do", json: `{"grant_type":"password","client_id":"` + testClientID + `","client_secret":"` + testClientSecret + `","username":"admin","password":"admin"}`,
			status: 401, body: oauthDeniedBody},
		{name: "wrong client secret", cite: "SERVICENOW.md Authentication: bad client or credentials 401 server_error/access_denied",
			method: "POST", path: "/oauth_token.do", form: url.Values{"grant_type": {"password"}, "client_id": {testClientID}, "client_secret": {"nope"}, "username": {"admin"}, "password": {"admin"}},
			status: 401, body: oauthDeniedBody},
		{name: "client_secret required", cite: "r_OAuthAPIRequestParameters.md: client_secret [Required]",
			method: "POST", path: "/oauth_token.do", form: url.Values{"grant_type": {"password"}, "client_id": {testClientID}, "username": {"admin"}, "password": {"admin"}},
			status: 401, body: oauthDeniedBody},
		{name: "locked-out user gets no token", cite: "r_OAuthAPIRequestParameters.md: the instance verifies that the user is active and not locked out",
			method: "POST", path: "/oauth_token.do", form: passwordForm(snowsim.UserLocked, snowsim.DemoPassword), status: 401, body: oauthDeniedBody},
		{name: "refresh returns the current refresh token", cite: "r_OAuthAPIRequestParameters.md, Requests Using a Refresh Token: requests within the refresh token expiration time return the current refresh token",
			setup: issued("admin", "admin"), method: "POST", path: "/oauth_token.do",
			form:   url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "client_secret": {testClientSecret}, "refresh_token": {"{refresh}"}},
			status: 200,
			check: func(t *testing.T, _ *simEnv, p page, vars map[string]string) {
				var b map[string]any
				_ = json.Unmarshal([]byte(p.body), &b)
				if b["refresh_token"] != vars["refresh"] || b["access_token"] == vars["access"] {
					t.Fatalf("refresh answer %s", p.body)
				}
			}},
		{name: "refresh token of 100 days expires", cite: "SERVICENOW.md Authentication: refresh_token_lifespan default 8,640,000 s, not extended by refreshes",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				v := issued("admin", "admin")(t, e)
				e.clock.Advance(8640000 * time.Second)
				return v
			}, method: "POST", path: "/oauth_token.do",
			form:   url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "client_secret": {testClientSecret}, "refresh_token": {"{refresh}"}},
			status: 401, body: oauthDeniedBody},
		{name: "client_credentials off by default", cite: "client-credentials.md: the controlling system property is false by default",
			method: "POST", path: "/oauth_token.do", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}},
			status: 401, body: oauthDeniedBody},
		{name: "client_credentials needs the OAuth Application User", cite: "client-credentials.md and add-oauth-application-user.md: the property and the OAuth Application User field",
			knobs:  snowsim.Knobs{ClientCredentials: true},
			method: "POST", path: "/oauth_token.do", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}},
			status: 401, body: oauthDeniedBody},
		{name: "revoke without authentication", cite: "t_RevokeOAuthToken.md: oauth_revoke_token.do?token=..., no authentication, the token is marked as expired",
			setup: issued("admin", "admin"), method: "GET", path: "/oauth_revoke_token.do?token={access}", status: 200,
			check: func(t *testing.T, e *simEnv, _ page, vars map[string]string) {
				if p := e.api(t, "GET", "/api/now/table/incident", vars["access"], ""); p.status != 401 {
					t.Fatalf("revoked token still works: %d", p.status)
				}
			}},

		// --- Bearer on the REST APIs ---
		{name: "bearer token on the Table API", cite: "SERVICENOW.md Authentication: Basic auth and OAuth bearer tokens both work on the REST APIs",
			setup: issued(snowsim.UserITIL, snowsim.DemoPassword), method: "GET", path: "/api/now/table/incident", auth: "bearer:{access}",
			status: 200, body: `{"result":[]}`},
		{name: "bearer token on the Aggregate API", cite: "SERVICENOW.md: bearer tokens work on the REST APIs; c_AggregateAPI.md",
			setup: issued(snowsim.UserITIL, snowsim.DemoPassword), method: "GET", path: "/api/now/stats/incident?sysparm_count=true", auth: "bearer:{access}",
			status: 200, body: `{"result":{"stats":{"count":"0"}}}`},
		{name: "expired access token", cite: "SERVICENOW.md Table API errors: 401 User Not Authenticated with WWW-Authenticate; access_token_lifespan default 1800 s",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				v := issued("admin", "admin")(t, e)
				e.clock.Advance(1800 * time.Second)
				return v
			}, method: "GET", path: "/api/now/table/incident", auth: "bearer:{access}",
			status: 401, body: notAuthBody, header: map[string]string{"WWW-Authenticate": `BASIC realm="Service-now"`}},
		{name: "token of a user locked out since", cite: "r_OAuthAPIRequestParameters.md: tokens are for active users that are not locked out",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				v := issued(snowsim.UserITIL, snowsim.DemoPassword)(t, e)
				rows, _ := e.in.Query("sys_user", "user_name="+snowsim.UserITIL)
				if _, err := e.in.Update("sys_user", rows[0]["sys_id"], map[string]string{"locked_out": "true"}); err != nil {
					t.Fatal(err)
				}
				return v
			}, method: "GET", path: "/api/now/table/incident", auth: "bearer:{access}", status: 401, body: notAuthBody},

		// --- Rate limit rules ---
		{name: "no rule, no headers", cite: "inbound-REST-API-rate-limiting.md: the headers come with requests that match a rule",
			method: "GET", path: "/api/now/table/incident", auth: "basic", status: 200,
			header: map[string]string{"X-RateLimit-Limit": "", "X-RateLimit-Reset": "", "X-RateLimit-Rule": ""}},
		{name: "matching request carries the rate limit headers", cite: "inbound-REST-API-rate-limiting.md, REST API response headers: X-RateLimit-Limit, X-RateLimit-Reset (Unix time), X-RateLimit-Rule (sys_id)",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				id, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents", API: "Table API", RequestsPerHour: 10})
				return map[string]string{"rule": id}
			}, method: "GET", path: "/api/now/table/incident", auth: "basic", status: 200,
			header: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Reset": top, "X-RateLimit-Rule": "{rule}"}},
		{name: "exceeding the rule", cite: "inbound-REST-API-rate-limiting.md: 429 Too Many Requests with Retry After and the documented error body",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				id, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents", API: "Table API", RequestsPerHour: 1})
				e.basic(t, "GET", "/api/now/table/incident", "")
				return map[string]string{"rule": id}
			}, method: "GET", path: "/api/now/table/incident", auth: "basic", status: 429,
			body:   `{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 1 requests per hour for Table API exceeded"},"status":"failure"}`,
			header: map[string]string{"Retry-After": "3600", "X-RateLimit-Limit": "1", "X-RateLimit-Rule": "{rule}"}},
		{name: "single user rule overrides role and all-users rules", cite: "inbound-REST-API-rate-limiting.md, Rate limiting priority (ITIL User example: the user rule applies)",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				_, _ = e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents", RequestsPerHour: 2})
				_, _ = e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents by itil Role", Role: "itil", RequestsPerHour: 5})
				id, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents by User", User: snowsim.UserITIL, RequestsPerHour: 10})
				v := issued(snowsim.UserITIL, snowsim.DemoPassword)(t, e)
				v["rule"] = id
				return v
			}, method: "GET", path: "/api/now/table/incident", auth: "bearer:{access}", status: 200,
			header: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Rule": "{rule}"}},
		{name: "several role rules: the lowest count applies", cite: "inbound-REST-API-rate-limiting.md, Rate limiting priority (Abel Tuter with two roles: the rule allowing fewer requests)",
			setup: func(t *testing.T, e *simEnv) map[string]string {
				_, _ = e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents by itil Role", Role: "itil", RequestsPerHour: 5})
				id, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents by import admin Role", Role: "itil_admin", RequestsPerHour: 3})
				users, _ := e.in.Query("sys_user", "user_name="+snowsim.UserITIL)
				roles, _ := e.in.Query("sys_user_role", "name=itil_admin")
				if _, err := e.in.Insert("sys_user_has_role", map[string]string{"user": users[0]["sys_id"], "role": roles[0]["sys_id"]}); err != nil {
					t.Fatal(err)
				}
				v := issued(snowsim.UserITIL, snowsim.DemoPassword)(t, e)
				v["rule"] = id
				return v
			}, method: "GET", path: "/api/now/table/incident", auth: "bearer:{access}", status: 200,
			header: map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Rule": "{rule}"}},

		// --- Login pages ---
		{name: "unknown client_id shows an error page", cite: "RFC 6749 §4.1.2.1 as the instance's /oauth_auth.do applies it: no redirect to an unverified redirect_uri",
			method: "GET", path: "/oauth_auth.do?response_type=code&client_id=unknown&redirect_uri=https%3A%2F%2Fevil.example%2F&state=s", status: 400,
			header: map[string]string{"Location": ""}},
		{name: "SSO login notice", cite: "r_ForcingLoginViaSSOOnly.md: with SSO users see an SSO login rather than the default login page",
			knobs: snowsim.Knobs{SSO: true}, method: "GET", path: "/login.do", status: 200,
			check: func(t *testing.T, _ *simEnv, p page, _ map[string]string) {
				if !strings.Contains(p.body, "single sign-on") || strings.Contains(p.body, `name="user_password"`) {
					t.Fatalf("SSO login page: %s", p.body)
				}
			}},
		{name: "side door local login under SSO", cite: "r_ForcingLoginViaSSOOnly.md: SSO redirection does not force SSO, users with a local password can still log in (side_door.do, KB0715664)",
			knobs: snowsim.Knobs{SSO: true}, method: "GET", path: "/side_door.do", status: 200,
			check: func(t *testing.T, _ *simEnv, p page, _ map[string]string) {
				if !strings.Contains(p.body, `name="user_name"`) || !strings.Contains(p.body, `name="user_password"`) {
					t.Fatalf("side door: %s", p.body)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.cite == "" {
				t.Fatal("every conformance case cites its documentation")
			}
			e := newSimEnv(t, c.knobs)
			vars := map[string]string{}
			if c.setup != nil {
				vars = c.setup(t, e)
			}
			p := c.run(t, e, vars)
			if p.status != c.status {
				t.Fatalf("status %d, want %d: %s", p.status, c.status, p.body)
			}
			if c.body != "" {
				sameJSON(t, p.body, c.body)
			}
			for h, want := range c.header {
				if got := p.header.Get(h); got != expand(want, vars) {
					t.Errorf("%s = %q, want %q", h, got, expand(want, vars))
				}
			}
			if c.check != nil {
				c.check(t, e, p, vars)
			}
		})
	}
}
