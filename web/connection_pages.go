package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// connectionNotices are the confirmations the connection pages show after
// a redirect (?done=...).
var connectionNotices = map[string]string{
	"created":    "Connection saved with its client secret encrypted. Next: authorize it.",
	"authorized": "Authorized: the center is connected to ServiceNow.",
	"accepted":   "Kept: the account that authorized is now the integration user of this connection.",
	"default":    "This connection is now the default.",
	"removed":    "Connection removed: its secrets are deleted and its tokens were revoked where the instance allows.",
}

// connectionView is a connection as the pages show it: times in words,
// status labelled, warnings worked out. It carries no secret because the
// Connection it is made from has none.
type connectionView struct {
	*scorebridge.Connection
	StatusLabel         string
	RefreshExpiresSoon  bool
	NeedsAuthorization  bool
	RefreshTokenExpires string
	AccessTokenExpires  string
}

func (s *Server) viewConnection(c *scorebridge.Connection) *connectionView {
	if c == nil {
		return nil
	}
	v := &connectionView{Connection: c, StatusLabel: scorebridge.ConnectionStatusLabel(c.Status)}
	v.RefreshExpiresSoon = c.Status == scorebridge.ConnectionConnected && c.RefreshTokenExpiresSoon(time.Now())
	v.NeedsAuthorization = c.Status == scorebridge.ConnectionPending || c.Status == scorebridge.ConnectionAuthorizationRequired
	if c.RefreshTokenExpiresAt != nil {
		v.RefreshTokenExpires = formatTime(*c.RefreshTokenExpiresAt)
	}
	if c.AccessTokenExpiresAt != nil {
		v.AccessTokenExpires = formatTime(*c.AccessTokenExpiresAt)
	}
	return v
}

// homeConnection is the default connection for the home page card, or nil
// when none is connected (or connections are not configured).
func (s *Server) homeConnection(ctx context.Context) *connectionView {
	if s.connections == nil {
		return nil
	}
	c, err := s.connections.FindConnectionByID(ctx, "")
	if err != nil {
		if scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			s.logger.ErrorContext(ctx, "read default connection", "error", err.Error())
		}
		return nil
	}
	return s.viewConnection(c)
}

// errConnectionsOff answers every connection route of a center built without
// the connection service.
func errConnectionsOff() error {
	return scorebridge.Errorf(scorebridge.EUNAVAILABLE, "ServiceNow connections are not configured on this center.")
}

// requireConnections answers when the server runs without a connection
// service; it returns false then.
func (s *Server) requireConnections(w http.ResponseWriter, r *http.Request) bool {
	if s.connections == nil {
		s.error(w, r, errConnectionsOff())
		return false
	}
	return true
}

type connectionListPage struct {
	pageBase
	Items []*connectionView
}

// handleConnectionList is /connections: every connection with its status.
func (s *Server) handleConnectionList(w http.ResponseWriter, r *http.Request) {
	if s.connections == nil {
		// A center without the service still has a ServiceNow page: it
		// lists nothing.
		s.render(w, r, http.StatusOK, "connections", &connectionListPage{pageBase: pageBase{Title: "ServiceNow", Nav: "connections"}})
		return
	}
	s.renderConnectionList(w, r, "connections", "ServiceNow", connectionNotices[r.URL.Query().Get("done")])
}

// handleTicketProvisioning is /ticketProvisioning: the connections with
// Authorize, for re-provisioning after a refused refresh token or a
// rotated client secret.
func (s *Server) handleTicketProvisioning(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) {
		return
	}
	s.renderConnectionList(w, r, "connection_provisioning", "Ticket provisioning", "")
}

func (s *Server) renderConnectionList(w http.ResponseWriter, r *http.Request, page, title, notice string) {
	all, err := s.connections.FindConnections(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	p := &connectionListPage{pageBase: pageBase{Title: title, Nav: "connections", Notice: notice}}
	for _, c := range all {
		p.Items = append(p.Items, s.viewConnection(c))
	}
	s.render(w, r, http.StatusOK, page, p)
}

// connectionNewPage is the setup page: connect with a client id and secret,
// or run the installation checklist.
type connectionNewPage struct {
	pageBase
	RedirectURL string
	Instance    string
	ClientID    string
	AdminUser   string
	Integration string
	Errors      map[string]string
}

func (s *Server) handleConnectionNew(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) {
		return
	}
	s.renderConnectionNew(w, r, http.StatusOK, &connectionNewPage{})
}

func (s *Server) renderConnectionNew(w http.ResponseWriter, r *http.Request, status int, p *connectionNewPage) {
	p.pageBase = pageBase{Title: "Connect to ServiceNow", Nav: "connections"}
	p.RedirectURL = s.connections.RedirectURL()
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	s.render(w, r, status, "connection_new", p)
}

// handleConnectionCreate saves a connection made with an oauth_entity the
// admin created. A refused form comes back with the values kept, except
// the client secret, which is never written into a page.
func (s *Server) handleConnectionCreate(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) || !s.readForm(w, r) {
		return
	}
	in := scorebridge.ConnectionCreate{Instance: r.PostForm.Get("instance"), ClientID: r.PostForm.Get("clientId"), ClientSecret: r.PostForm.Get("clientSecret")}
	c, err := s.connections.CreateConnection(r.Context(), in)
	if err != nil {
		if code := scorebridge.ErrorCode(err); code == scorebridge.EINVALID || code == scorebridge.ECONFLICT {
			field := scorebridge.ErrorField(err)
			if field == "" {
				field = "form"
			}
			s.renderConnectionNew(w, r, errorStatusCode(code), &connectionNewPage{Instance: in.Instance, ClientID: in.ClientID,
				Errors: map[string]string{field: scorebridge.ErrorMessage(err)}})
			return
		}
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/connections/"+c.ID+"?done=created", http.StatusSeeOther)
}

type connectionChecklistPage struct {
	pageBase
	Result     *scorebridge.ChecklistResult
	Connection *connectionView
	AllOK      bool
}

// handleConnectionChecklist runs the installation checklist with the admin
// credentials of the form, which go to the instance and nowhere else.
func (s *Server) handleConnectionChecklist(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) || !s.readForm(w, r) {
		return
	}
	f := r.PostForm
	in := scorebridge.ChecklistInput{Instance: f.Get("instance"), AdminUser: f.Get("adminUser"), AdminPassword: f.Get("adminPassword"),
		IntegrationUser: f.Get("integrationUser"), IntegrationPassword: f.Get("integrationPassword"), ResetPassword: f.Get("resetPassword") == "true"}
	res, err := s.connections.RunChecklist(r.Context(), in)
	if err != nil {
		if scorebridge.ErrorCode(err) == scorebridge.EINVALID {
			field := scorebridge.ErrorField(err)
			if field == "" {
				field = "checklist"
			}
			s.renderConnectionNew(w, r, http.StatusBadRequest, &connectionNewPage{Instance: in.Instance, AdminUser: in.AdminUser, Integration: in.IntegrationUser,
				Errors: map[string]string{field: scorebridge.ErrorMessage(err)}})
			return
		}
		s.error(w, r, err)
		return
	}
	p := &connectionChecklistPage{pageBase: pageBase{Title: "Installation checklist", Nav: "connections"}, Result: res, Connection: s.viewConnection(res.Connection), AllOK: true}
	for _, c := range res.Checks {
		p.AllOK = p.AllOK && c.OK
	}
	status := http.StatusOK
	if !p.AllOK {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "connection_checklist", p)
}

type connectionPage struct {
	pageBase
	Connection *connectionView
}

// handleConnectionView is one connection: instance, user, since, token
// expiry with the warning, last success, last error with its cause.
func (s *Server) handleConnectionView(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "connection", &connectionPage{
		pageBase:   pageBase{Title: "ServiceNow: " + hostOf(c.InstanceURL), Nav: "connections", Notice: connectionNotices[r.URL.Query().Get("done")]},
		Connection: s.viewConnection(c),
	})
}

// findConnection reads the connection named by the {id} path value. An
// empty id would mean "the default" to the service, so it is refused here;
// a center without the connection service answers EUNAVAILABLE.
func (s *Server) findConnection(r *http.Request) (*scorebridge.Connection, error) {
	if s.connections == nil {
		return nil, errConnectionsOff()
	}
	id := r.PathValue("id")
	if id == "" {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection not found.")
	}
	return s.connections.FindConnectionByID(r.Context(), id)
}

type connectionAuthorizePage struct {
	pageBase
	Connection   *connectionView
	AuthorizeURL string
}

// handleConnectionAuthorize starts an authorization and shows the page that
// sends the admin on to the instance, with the warnings a person needs
// before signing in there. The last step is a link rather than a redirect
// from a form, so the Content-Security-Policy (form-action 'self') holds.
func (s *Server) handleConnectionAuthorize(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	u, err := s.connections.AuthorizeURL(r.Context(), c.ID, s.authorizationBinding(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "connection_authorize", &connectionAuthorizePage{
		pageBase: pageBase{Title: "Authorize", Nav: "connections"}, Connection: s.viewConnection(c), AuthorizeURL: u,
	})
}

// handleConnectionCallback is where the instance sends the browser back.
func (s *Server) handleConnectionCallback(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) {
		return
	}
	q := r.URL.Query()
	c, err := s.connections.CompleteAuthorization(r.Context(), s.callbackBindings(r), q.Get("state"), q.Get("code"), q.Get("error"))
	if err != nil {
		s.recordAudit(r, &scorebridge.AuditEvent{Action: scorebridge.AuditConnection, Outcome: scorebridge.OutcomeFailure,
			Detail: map[string]any{"change": "authorize", "reason": scorebridge.ErrorMessage(err)}})
		s.error(w, r, err)
		return
	}
	s.refreshStateNames(r, c.ID)
	if c.WrongUser() {
		// Not a success: the page says who authorized and asks the admin
		// to keep that account or authorize again.
		http.Redirect(w, r, "/connections/"+c.ID, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/connections/"+c.ID+"?done=authorized", http.StatusSeeOther)
}

// handleConnectionAcceptUser keeps an authorization made with another
// account than the integration user, as the admin chose on the connection
// page.
func (s *Server) handleConnectionAcceptUser(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err == nil {
		c, err = s.connections.AcceptAuthorizedUser(r.Context(), c.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/connections/"+c.ID+"?done=accepted", http.StatusSeeOther)
}

// An OAuth authorization is bound to whoever started it, and its callback
// completes it only for them (connection.Service.CompleteAuthorization):
// started in a browser, to that browser session; started with an API
// token, to the account that made the token (signed in in any browser, or
// through another of its tokens); with a token made by the token command,
// which no account made, to any admin.

// authorizationBinding is what an authorization this request starts is
// bound to; "" for a center without sign-in.
func (s *Server) authorizationBinding(r *http.Request) string {
	act := actingFrom(r)
	switch {
	case act.sessionToken != "":
		return sessionBinding(act.sessionToken)
	case act.token != nil:
		return s.tokenBinding(r, act.token)
	}
	return ""
}

// tokenBinding is the binding of a token's authorizations: the account
// that made it, or the admins' for a token no account made.
func (s *Server) tokenBinding(r *http.Request, tok *scorebridge.APIToken) string {
	if name := s.tokenMaker(r, tok); name != "" {
		return accountBinding(name)
	}
	return adminsBinding
}

// tokenMaker is the account that made a token, "" when none did (the
// token command).
func (s *Server) tokenMaker(r *http.Request, tok *scorebridge.APIToken) string {
	if name := tok.CreatedBy; name != "" && s.auth != nil {
		if _, err := s.auth.Accounts.FindAccountByName(r.Context(), name); err == nil {
			return name
		}
	}
	return ""
}

// callbackBindings are the bindings a callback request satisfies: its
// browser session, its account (a token counts as its maker's), and any
// admin's.
func (s *Server) callbackBindings(r *http.Request) []string {
	act := actingFrom(r)
	var out []string
	if act.sessionToken != "" {
		out = append(out, sessionBinding(act.sessionToken))
	}
	if act.account != nil {
		out = append(out, accountBinding(act.account.Name))
	}
	if act.token != nil {
		if name := s.tokenMaker(r, act.token); name != "" {
			out = append(out, accountBinding(name))
		}
	}
	if (act.account != nil || act.token != nil) && hasRole(act.user, scorebridge.RoleAdmin) {
		out = append(out, adminsBinding)
	}
	return out
}

// sessionBinding names a browser session: a hash of its token, so the
// token itself is never stored again.
func sessionBinding(token string) string { return hashBinding("oauth-binding:" + token) }

// accountBinding names an account, wherever it is signed in.
func accountBinding(name string) string { return hashBinding("oauth-binding-account:" + name) }

// adminsBinding names any admin.
var adminsBinding = hashBinding("oauth-binding-admins")

func hashBinding(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (s *Server) handleConnectionRemoveConfirm(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "connection_remove", &connectionPage{pageBase: pageBase{Title: "Remove connection", Nav: "connections"}, Connection: s.viewConnection(c)})
}

func (s *Server) handleConnectionRemove(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err == nil {
		err = s.connections.RemoveConnection(r.Context(), c.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/connections?done=removed", http.StatusSeeOther)
}

func (s *Server) handleConnectionDefault(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err == nil {
		err = s.connections.SetDefaultConnection(r.Context(), c.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/connections/"+c.ID+"?done=default", http.StatusSeeOther)
}

type connectionDoctorPage struct {
	pageBase
	Connection *connectionView
	Checks     []scorebridge.Check
	Failed     int
}

// handleConnectionDoctor runs the doctor and shows each verdict with its fix.
func (s *Server) handleConnectionDoctor(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	checks, err := s.connections.Doctor(r.Context(), c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if c, err = s.connections.FindConnectionByID(r.Context(), c.ID); err != nil {
		s.error(w, r, err)
		return
	}
	p := &connectionDoctorPage{pageBase: pageBase{Title: "Doctor", Nav: "connections"}, Connection: s.viewConnection(c), Checks: checks}
	for _, ch := range checks {
		if !ch.OK {
			p.Failed++
		}
	}
	s.render(w, r, http.StatusOK, "connection_doctor", p)
}

// readForm reads a posted form; it answers and returns false when the form
// cannot be read.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(w, r); err != nil {
		s.error(w, r, err)
		return false
	}
	return true
}

func hostOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	return rest
}
