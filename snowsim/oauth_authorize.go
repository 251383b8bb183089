package snowsim

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The authorization endpoint of the authorization code grant:
//
//	GET /oauth_auth.do?response_type=code&client_id=...&redirect_uri=...&state=...
//	    [&code_challenge=...&code_challenge_method=S256]
//
// A browser that is not logged in gets the login page (user_name,
// user_password; or the SSO notice), then the consent page: "<application>
// would like to connect to your ServiceNow instance", with buttons named
// allow and deny that POST the same parameters back to /oauth_auth.do with
// the form token sysparm_ck. Allow redirects (302) to
// redirect_uri?code=...&state=...; Deny to redirect_uri?error=access_denied&state=....
// "Not you?" (side_door.do) logs the browser out and shows the local login
// form. An unknown client_id or a redirect_uri that is not the client's
// Redirect URL shows an error page and never redirects, since the
// redirect_uri cannot be trusted. A code is good for one exchange within
// authCodeLifespan.
//
// Browser tests and scripted sign-ins find the pages by these element ids,
// which stay stable: login_form (fields user_name, user_password; button
// sysverb_login; message login_error), sso_notice and its link local_login,
// consent_form (buttons allow and deny, named alike), not_you, and
// error_message on error pages. The record forms of the agent UI are in
// ui.go.

// authRequest is a validated authorization request.
type authRequest struct {
	ResponseType, ClientID, RedirectURI, State, Challenge, ChallengeMethod string
	client                                                                 Record
}

// parseAuthRequest checks the parameters. errPage is set when the request
// must end on an error page; otherwise errCode is set when it must end with
// a redirect carrying error=errCode.
func (o *oauthServer) parseAuthRequest(v url.Values) (req authRequest, errPage, errCode string) {
	req = authRequest{
		ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		State: v.Get("state"), Challenge: v.Get("code_challenge"), ChallengeMethod: v.Get("code_challenge_method"),
	}
	client, ok := o.client(req.ClientID)
	if !ok {
		return req, "The client_id is not registered in the Application Registry of this instance, or the application is inactive.", ""
	}
	req.client = client
	var allowed []string
	for _, u := range strings.Split(client["redirect_url"], ",") {
		if u = strings.TrimSpace(u); u != "" {
			allowed = append(allowed, u)
		}
	}
	if req.RedirectURI == "" && len(allowed) == 1 {
		req.RedirectURI = allowed[0]
	}
	if req.RedirectURI == "" || !slices.Contains(allowed, req.RedirectURI) {
		return req, "The redirect_uri does not match the Redirect URL of the application " + client["name"] + ".", ""
	}
	if req.ResponseType != "code" {
		return req, "", "unsupported_response_type"
	}
	if req.Challenge != "" && req.ChallengeMethod != "S256" {
		return req, "", "invalid_request"
	}
	if req.Challenge == "" && req.ChallengeMethod != "" {
		return req, "", "invalid_request"
	}
	return req, "", ""
}

// query is the request's parameters, for the hidden fields of the forms.
func (req authRequest) query() url.Values {
	v := url.Values{"response_type": {req.ResponseType}, "client_id": {req.ClientID}, "redirect_uri": {req.RedirectURI}}
	for k, val := range map[string]string{"state": req.State, "code_challenge": req.Challenge, "code_challenge_method": req.ChallengeMethod} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// redirect sends the browser back to the client with params added to the
// redirect_uri's own query.
func (req authRequest) redirect(w http.ResponseWriter, r *http.Request, params url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// consentPage is the data of consent.html.
type consentPage struct {
	Application string
	UserName    string // display name of the logged-in user
	Fields      url.Values
	Ck          string
	NotYou      string // side_door.do URL that comes back here
}

func (o *oauthServer) authorizePage(w http.ResponseWriter, r *http.Request) {
	in := o.in
	req, errPage, errCode := o.parseAuthRequest(r.URL.Query())
	if errPage != "" {
		in.ext.ui.errorPage(w, http.StatusBadRequest, "Invalid OAuth request", errPage)
		return
	}
	if errCode != "" {
		req.redirect(w, r, url.Values{"error": {errCode}})
		return
	}
	back := "/oauth_auth.do?" + req.query().Encode()
	s, ls, ok := in.browserSession(r)
	if !ok {
		in.showLogin(w, back, false, http.StatusOK, "")
		return
	}
	in.mu.RLock()
	name := in.userDisplayNameLocked(s.UserName)
	in.mu.RUnlock()
	in.ext.ui.render(w, http.StatusOK, "consent.html", "Authorize "+req.client["name"], consentPage{
		Application: req.client["name"], UserName: name, Fields: req.query(), Ck: ls.ck,
		NotYou: "/side_door.do?sysparm_goto_url=" + url.QueryEscape(back),
	})
}

func (o *oauthServer) authorizeDecision(w http.ResponseWriter, r *http.Request) {
	in := o.in
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		in.ext.ui.errorPage(w, http.StatusBadRequest, "Invalid OAuth request", "The form could not be read.")
		return
	}
	req, errPage, errCode := o.parseAuthRequest(r.PostForm)
	if errPage != "" {
		in.ext.ui.errorPage(w, http.StatusBadRequest, "Invalid OAuth request", errPage)
		return
	}
	if errCode != "" {
		req.redirect(w, r, url.Values{"error": {errCode}})
		return
	}
	s, ls, ok := in.browserSession(r)
	if !ok {
		in.showLogin(w, "/oauth_auth.do?"+req.query().Encode(), false, http.StatusOK, "Your session has expired. Log in again.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("sysparm_ck")), []byte(ls.ck)) != 1 {
		in.ext.ui.errorPage(w, http.StatusForbidden, "Invalid form token", "The page was out of date. Go back, reload it and try again.")
		return
	}
	switch {
	case r.PostForm.Has("deny"):
		req.redirect(w, r, url.Values{"error": {"access_denied"}})
	case r.PostForm.Has("allow"):
		code := o.newAuthCode(req.client, s.UserID, req.RedirectURI, req.Challenge)
		req.redirect(w, r, url.Values{"code": {code}})
	default:
		in.ext.ui.errorPage(w, http.StatusBadRequest, "Invalid OAuth request", "Choose Allow or Deny.")
	}
}
