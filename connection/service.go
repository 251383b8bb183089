package connection

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// Config configures a Service. Store and RedirectURL are required.
type Config struct {
	// Store keeps connections with their secrets sealed
	// (sqlstore.ConnectionStore).
	Store Store
	// RedirectURL is the center's OAuth callback as the browser reaches it,
	// e.g. https://scorebridge.example.org/connections/callback. It must be
	// registered as the oauth_entity's Redirect URL.
	RedirectURL string
	// HTTP configures the client every instance is called with. Set
	// AllowPrivate only for the simulator and tests on this machine.
	HTTP servicenow.HTTPOptions
	// Logger receives connection events; never a secret. Default: discard.
	Logger *slog.Logger
	// Notifier, when set, is told when a connection needs authorization:
	// when its refresh token is refused, and at most once a minute while work finds it so,
	// all under the one cause of the connection, so the people told get
	// one message however many tickets wait.
	Notifier scorebridge.Notifier
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// RefreshMargin is how long before its expiry an access token is
	// refreshed, so a call never leaves with a token that dies on the way.
	// Default 2 minutes.
	RefreshMargin time.Duration
	// AuthorizationTTL is how long an authorization may take from the
	// Authorize button to the callback. Default 10 minutes.
	AuthorizationTTL time.Duration
	// LookupTTL is how long ConnectedInstance trusts its in-memory copy of
	// a connection's row before reading the store again. Writes made by this
	// process clear the copy at once; writes by other replicas are seen
	// within LookupTTL. Default 1 second.
	LookupTTL time.Duration
}

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("connection: Config.Store is required")
	}
	if c.RedirectURL == "" {
		return errors.New("connection: Config.RedirectURL is required")
	}
	if !strings.HasPrefix(c.RedirectURL, "https://") && !strings.HasPrefix(c.RedirectURL, "http://") {
		return fmt.Errorf("connection: Config.RedirectURL %q must be an absolute http(s) URL", c.RedirectURL)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RefreshMargin <= 0 {
		c.RefreshMargin = 2 * time.Minute
	}
	if c.AuthorizationTTL <= 0 {
		c.AuthorizationTTL = 10 * time.Minute
	}
	if c.LookupTTL <= 0 {
		c.LookupTTL = time.Second
	}
	return nil
}

// Service implements scorebridge.ConnectionService. It is safe for
// concurrent use.
type Service struct {
	cfg   Config
	store Store
	log   *slog.Logger
	http  *http.Client // unauthenticated, for token requests and probes

	mu       sync.Mutex
	sessions map[string]*session // by connection id
	lookups  map[string]lookup   // by id asked for, "" for the default
	// notified is when each connection last told the notifier it needs
	// authorization, so thousands of waiting tickets cost a write a
	// minute, not one each.
	notified map[string]time.Time

	// authorized hears of each connection that can call its instance
	// again (OnAuthorized).
	authorized func(ctx context.Context, connectionID string) error
}

// OnAuthorized makes f hear of each connection authorized (or its
// authorized user accepted), before the call that did it returns, so work
// that waited for the connection (queued tickets) resumes at once rather
// than at its next look. Set it before the service is used; f's error is
// only logged, since the authorization itself is done.
func (s *Service) OnAuthorized(f func(ctx context.Context, connectionID string) error) {
	s.authorized = f
}

// resumeWaiting tells OnAuthorized's function that c can be used again.
func (s *Service) resumeWaiting(ctx context.Context, c *scorebridge.Connection) {
	if s.authorized == nil {
		return
	}
	if err := s.authorized(ctx, c.ID); err != nil {
		s.log.Warn("work waiting for the connection not resumed at once; it resumes at its next look", "connection", c.ID, "error", err)
	}
}

// lookup is a connection row read for ConnectedInstance, and when.
type lookup struct {
	c  *scorebridge.Connection
	at time.Time
}

var _ scorebridge.ConnectionService = (*Service)(nil)

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{
		cfg:      cfg,
		store:    cfg.Store,
		log:      cfg.Logger,
		http:     servicenow.NewHTTPClient(cfg.HTTP),
		sessions: map[string]*session{},
		lookups:  map[string]lookup{},
	}, nil
}

// findCached returns a connection for ConnectedInstance, from memory when
// read less than LookupTTL ago.
func (s *Service) findCached(ctx context.Context, id string) (*scorebridge.Connection, error) {
	now := s.now()
	s.mu.Lock()
	l, ok := s.lookups[id]
	s.mu.Unlock()
	if ok && now.Sub(l.at) < s.cfg.LookupTTL && now.Sub(l.at) >= 0 {
		return l.c, nil
	}
	c, err := s.store.FindConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lookups[id] = lookup{c: c, at: now}
	s.mu.Unlock()
	return c, nil
}

// forget drops the in-memory copies after a write, so this process sees
// its own writes at once.
func (s *Service) forget() {
	s.mu.Lock()
	clear(s.lookups)
	s.mu.Unlock()
}

// RedirectURL is the callback URL the oauth_entity must name.
func (s *Service) RedirectURL() string { return s.cfg.RedirectURL }

func (s *Service) now() time.Time { return s.cfg.Now() }

// FindConnections returns every connection, the default first.
func (s *Service) FindConnections(ctx context.Context) ([]*scorebridge.Connection, error) {
	return s.store.FindConnections(ctx)
}

// FindConnectionByID returns a connection, the default when id is "".
// Returns ENOTFOUND.
func (s *Service) FindConnectionByID(ctx context.Context, id string) (*scorebridge.Connection, error) {
	return s.store.FindConnectionByID(ctx, id)
}

// maxClientField caps the client id and secret an admin may paste.
const maxClientField = 255

// CreateConnection validates the input and stores a pending connection.
// Returns EINVALID and ECONFLICT.
func (s *Service) CreateConnection(ctx context.Context, in scorebridge.ConnectionCreate) (*scorebridge.Connection, error) {
	base, err := s.parseInstance(in.Instance)
	if err != nil {
		return nil, err
	}
	clientID := strings.TrimSpace(in.ClientID)
	switch {
	case clientID == "":
		return nil, scorebridge.FieldErrorf("clientId", "Give the client id of the Application Registry entry (System OAuth > Application Registry).")
	case len(clientID) > maxClientField || strings.ContainsAny(clientID, " \t\r\n"):
		return nil, scorebridge.FieldErrorf("clientId", "The client id must be one word of at most %d characters.", maxClientField)
	}
	if err := scorebridge.ValidateIdentifier("clientId", clientID); err != nil {
		return nil, err
	}
	switch {
	case in.ClientSecret == "":
		return nil, scorebridge.FieldErrorf("clientSecret", "Give the client secret of the Application Registry entry.")
	case len(in.ClientSecret) > maxClientField:
		return nil, scorebridge.FieldErrorf("clientSecret", "The client secret must be at most %d characters.", maxClientField)
	}
	c := &scorebridge.Connection{ID: newID(), InstanceURL: base, ClientID: clientID}
	if err := s.store.CreateConnection(ctx, c, in.ClientSecret, connectionEvent(c, "created", nil)); err != nil {
		return nil, err
	}
	s.forget()
	s.log.Info("connection created", "connection", c.ID, "instance", c.InstanceURL, "actor", scorebridge.ActorFromContext(ctx))
	return c, nil
}

// parseInstance validates what an admin typed as the instance.
func (s *Service) parseInstance(input string) (string, error) {
	base, err := servicenow.ParseInstanceURL(input, s.cfg.HTTP.AllowPrivate)
	if err != nil {
		return "", scorebridge.FieldErrorf("instance", "%s", err.Error())
	}
	return base, nil
}

// newID returns a random connection id.
func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newState returns a random OAuth state: 256 bits, so it cannot be guessed.
func newState() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// bindingIn reports whether binding is one of bindings, in constant time
// for each.
func bindingIn(binding string, bindings []string) bool {
	found := false
	for _, b := range bindings {
		if subtle.ConstantTimeCompare([]byte(binding), []byte(b)) == 1 {
			found = true
		}
	}
	return found
}

// AuthorizeURL starts an authorization and returns where the integration
// user must go. Returns ENOTFOUND.
func (s *Service) AuthorizeURL(ctx context.Context, id, binding string) (string, error) {
	if id == "" {
		return "", scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection \"\" not found.")
	}
	c, sec, err := s.store.FindConnectionSecrets(ctx, id)
	if err != nil {
		return "", err
	}
	state, verifier := newState(), servicenow.NewVerifier()
	if err := s.store.CreateAuthorization(ctx, c.ID, state, binding, verifier, s.now().Add(s.cfg.AuthorizationTTL)); err != nil {
		return "", err
	}
	return s.oauth(c, sec.ClientSecret).AuthCodeURL(state, verifier), nil
}

func (s *Service) oauth(c *scorebridge.Connection, clientSecret string) *servicenow.OAuthConfig {
	return &servicenow.OAuthConfig{InstanceURL: c.InstanceURL, ClientID: c.ClientID, ClientSecret: clientSecret, RedirectURL: s.cfg.RedirectURL}
}

// CompleteAuthorization exchanges the callback's code; oauthError is the
// callback's error parameter (access_denied when the user chose Deny), and
// bindings what the callback's request is bound to (its browser session,
// its account), of which the authorization's own binding must be one: a
// state that leaked, or a link another admin was sent, cannot connect the
// center to an account of someone else's choosing. Returns EINVALID, EFORBIDDEN, ECONFLICT, EUNAUTHORIZED and
// EUNAVAILABLE.
func (s *Service) CompleteAuthorization(ctx context.Context, bindings []string, state, code, oauthError string) (*scorebridge.Connection, error) {
	if state == "" {
		return nil, scorebridge.FieldErrorf("state", "The authorization answer has no state, so it cannot be matched to an authorization the center started. Start again from the connection page.")
	}
	// The state is consumed first, whatever happens next: a state works once.
	a, err := s.store.ConsumeAuthorization(ctx, state)
	if err != nil {
		return nil, err
	}
	if a.Binding != "" && !bindingIn(a.Binding, bindings) {
		return nil, scorebridge.Errorf(scorebridge.EFORBIDDEN, "This authorization was started in another browser session (or with an API token, for another account), so it cannot be completed here. Start the authorization again from the connection page, in this browser.")
	}
	if oauthError != "" {
		msg := fmt.Sprintf("The instance did not grant access (%s).", oauthError)
		if oauthError == "access_denied" {
			msg = "Access was denied on the instance's consent page. To connect, authorize again and choose Allow, signed in as the integration user."
		}
		return nil, scorebridge.Errorf(scorebridge.ECONFLICT, "%s", msg)
	}
	if code == "" {
		return nil, scorebridge.FieldErrorf("code", "The authorization answer has no code. Start again from the connection page.")
	}
	c, sec, err := s.store.FindConnectionSecrets(ctx, a.ConnectionID)
	if err != nil {
		return nil, err
	}
	tok, err := s.oauth(c, sec.ClientSecret).Exchange(ctx, s.http, code, a.Verifier)
	if err != nil {
		if servicenow.IsTokenRefused(err) {
			return nil, scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The instance refused the authorization code. The client secret may be wrong, or the code expired or was already used. Check the client secret in the Application Registry and authorize again.")
		}
		return nil, unavailable(c.InstanceURL, err)
	}
	user := s.integrationUser(ctx, c.InstanceURL, tok.AccessToken)
	// The first authorization of a connection made from an Application
	// Registry entry names its integration user; later ones, and those of
	// a checklist's connection, are compared with it.
	integration := c.IntegrationUser
	if integration == "" {
		integration = user
	}
	detail := map[string]any{"integration_user": integration}
	if user != "" && integration != "" && !strings.EqualFold(user, integration) {
		detail["authorized_as"] = user
		s.log.Warn("authorized as another user than the integration user: accept it on the connection page, or authorize again as the integration user (\"Not you?\" on the instance's page)",
			"connection", c.ID, "authorized_as", user, "integration_user", integration)
	}
	c, err = s.store.SaveAuthorization(ctx, c.ID, integration, user, s.tokens(c, tok, true), connectionEvent(c, "authorized", detail))
	if err != nil {
		return nil, err
	}
	s.forget()
	s.session(c.ID).reset(tok.AccessToken, s.accessExpiry(tok))
	s.log.Info("connection authorized", "connection", c.ID, "instance", c.InstanceURL, "integration_user", c.IntegrationUser, "authorized_as", c.AuthorizedAs)
	s.publishStatus(ctx, c)
	s.resumeWaiting(ctx, c)
	return c, nil
}

// AcceptAuthorizedUser keeps an authorization made as another user than
// the integration user: an admin decided that account is the one to use.
// Returns ENOTFOUND and ECONFLICT.
func (s *Service) AcceptAuthorizedUser(ctx context.Context, id string) (*scorebridge.Connection, error) {
	c, err := s.store.FindConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.WrongUser() {
		return nil, scorebridge.Errorf(scorebridge.ECONFLICT, "The connection to %s is authorized as its integration user %q already; there is nothing to accept.", c.InstanceURL, c.IntegrationUser)
	}
	c, err = s.store.AcceptAuthorizedUser(ctx, c.ID, connectionEvent(c, "accepted_user", map[string]any{"integration_user": c.AuthorizedAs, "previous_integration_user": c.IntegrationUser}))
	if err != nil {
		return nil, err
	}
	s.forget()
	s.log.Info("authorized user accepted as the integration user", "connection", c.ID, "instance", c.InstanceURL, "integration_user", c.IntegrationUser, "actor", scorebridge.ActorFromContext(ctx))
	s.resumeWaiting(ctx, c)
	return c, nil
}

// accessExpiry is when an access token expires by the service's clock. An
// answer without expires_in gets ServiceNow's default lifespan.
func (s *Service) accessExpiry(tok *servicenow.Token) time.Time {
	if tok.ExpiresIn > 0 {
		return s.now().Add(tok.ExpiresIn)
	}
	return s.now().Add(AccessTokenLifespan * time.Second)
}

// tokens turns a token answer into what the store keeps. The refresh
// token's expiry is computed from the client's lifespan, since ServiceNow
// does not return it; a refresh keeps the old expiry (it is not extended).
func (s *Service) tokens(c *scorebridge.Connection, tok *servicenow.Token, fresh bool) scorebridge.ConnectionTokens {
	out := scorebridge.ConnectionTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, AccessTokenExpiresAt: s.accessExpiry(tok)}
	if fresh || c.RefreshTokenExpiresAt == nil {
		lifespan := c.RefreshTokenLifespan
		if lifespan <= 0 {
			lifespan = scorebridge.DefaultRefreshTokenLifespan
		}
		out.RefreshTokenExpiresAt = s.now().Add(lifespan)
	} else {
		out.RefreshTokenExpiresAt = *c.RefreshTokenExpiresAt
	}
	return out
}

// integrationUser asks the instance who the token acts as, so the page
// shows it and the log warns when a person authorized with their own
// account. The
// Table API has no "me", but the session's user name is what
// sys_user?user_name=javascript:gs.getUserName() resolves to; an instance
// that does not evaluate it answers nothing, and the user stays unknown.
func (s *Service) integrationUser(ctx context.Context, base, accessToken string) string {
	hc := &http.Client{Transport: &servicenow.Transport{Source: staticToken(accessToken), Base: s.http.Transport}, Timeout: 15 * time.Second, CheckRedirect: s.http.CheckRedirect}
	recs, _, err := servicenow.NewClient(base, hc).List(ctx, "sys_user", servicenow.ListOptions{
		Query: "user_name=javascript:gs.getUserName()", Fields: []string{"user_name"}, Limit: 1, NoCount: true,
	})
	if err != nil || len(recs) != 1 {
		return ""
	}
	return recs[0]["user_name"]
}

// staticToken is a TokenSource for one known token.
type staticToken string

func (t staticToken) AccessToken(context.Context) (string, error) { return string(t), nil }
func (t staticToken) TokenRejected(string)                        {}
func (t staticToken) CallSucceeded(context.Context)               {}

// RemoveConnection revokes the tokens where the instance allows and deletes
// the connection with its secrets. Returns ENOTFOUND.
func (s *Service) RemoveConnection(ctx context.Context, id string) error {
	if id == "" {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection \"\" not found.")
	}
	c, sec, err := s.store.FindConnectionSecrets(ctx, id)
	if err != nil {
		return err
	}
	// Revoke the refresh token first: on ServiceNow that also ends the
	// access tokens made from it. A failure does not stop the removal: the
	// local secrets go either way, and the admin can revoke on the instance.
	oc := s.oauth(c, sec.ClientSecret)
	revoked := false
	for _, tok := range []string{sec.RefreshToken, sec.AccessToken} {
		ok, err := oc.Revoke(ctx, s.http, tok)
		if err != nil {
			s.log.Warn("token revocation failed; revoke it on the instance (System OAuth > Manage Tokens)", "connection", c.ID, "instance", c.InstanceURL, "error", err)
		}
		revoked = revoked || ok
	}
	if err := s.store.DeleteConnection(ctx, c.ID, connectionEvent(c, "removed", map[string]any{"revoked_on_instance": revoked})); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.sessions, c.ID)
	clear(s.lookups)
	s.mu.Unlock()
	s.log.Info("connection removed", "connection", c.ID, "instance", c.InstanceURL, "tokens_revoked", revoked, "actor", scorebridge.ActorFromContext(ctx))
	return nil
}

// SetDefaultConnection makes a connection the default. Returns ENOTFOUND.
func (s *Service) SetDefaultConnection(ctx context.Context, id string) error {
	defer s.forget()
	return s.store.SetDefaultConnection(ctx, id, connectionEvent(&scorebridge.Connection{ID: id}, "made_default", nil))
}

// connectionEvent is the audit event of a change to connection c, written
// by the store in the change's own transaction. change names it in the
// past tense; detail adds what an admin needs to trace it.
func connectionEvent(c *scorebridge.Connection, change string, detail map[string]any) *scorebridge.AuditEvent {
	d := map[string]any{"change": change}
	if c.InstanceURL != "" {
		d["instance"] = c.InstanceURL
	}
	for k, v := range detail {
		d[k] = v
	}
	return &scorebridge.AuditEvent{Action: scorebridge.AuditConnection, Target: c.ID, Detail: d}
}

// unavailable is the error for an instance that could not be reached or
// answered with a server error.
func unavailable(instance string, err error) error {
	return scorebridge.Errorf(scorebridge.EUNAVAILABLE, "%s could not be reached: %s", instance, describe(err))
}

// describe says what went wrong with a call in words, without secrets.
func describe(err error) string {
	var se *servicenow.Error
	if errors.As(err, &se) {
		switch {
		case se.StatusCode == 0 && se.Err != nil:
			return describeTransport(se.Err)
		case se.Detail != "":
			return fmt.Sprintf("%d %s: %s", se.StatusCode, se.Message, se.Detail)
		default:
			return fmt.Sprintf("%d %s", se.StatusCode, se.Message)
		}
	}
	return describeTransport(err)
}
