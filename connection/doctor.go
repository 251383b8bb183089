package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// Names of the doctor's checks, stable for scripts that read the JSON.
const (
	CheckReachable     = "Instance reachable, TLS valid"
	CheckClock         = "Clock skew"
	CheckApplication   = "OAuth application and redirect URL"
	CheckSSO           = "Single sign-on"
	CheckAuthorization = "Authorization"
	CheckAuthorizedAs  = "Authorized as the integration user"
	CheckCrossScope    = "Application Registries cross-scope policy"
	CheckUser          = "Integration user"
	CheckLifespans     = "Token lifespans"
	CheckTableAccess   = "Table access"
)

// MaxClockSkew is the difference between the center's clock and the
// instance's beyond which token expiry and the ticket sync watermark go
// wrong.
const MaxClockSkew = 2 * time.Minute

// MinAccessTokenLifespan is the shortest access token lifespan the doctor
// calls sensible: below it, nearly every call waits for a refresh.
const MinAccessTokenLifespan = 5 * time.Minute

// maxProbeBytes caps what the doctor reads of a page it probes.
const maxProbeBytes = 256 << 10

// Doctor runs the troubleshooting guide's checks against a connection (the
// default when id is ""). A failure that makes later checks meaningless
// (unreachable instance, no authorization) stops there and says so in one
// message, so one problem reads as one problem. Returns ENOTFOUND.
func (s *Service) Doctor(ctx context.Context, id string) ([]scorebridge.Check, error) {
	c, sec, err := s.store.FindConnectionSecrets(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &doctor{svc: s, c: c, clientSecret: sec.ClientSecret}
	d.run(ctx)
	return d.checks, nil
}

type doctor struct {
	svc          *Service
	c            *scorebridge.Connection
	clientSecret string
	checks       []scorebridge.Check
}

func (d *doctor) add(name string, ok bool, message, fix string) bool {
	d.checks = append(d.checks, scorebridge.Check{Name: name, OK: ok, Message: message, Fix: fix})
	return ok
}

func (d *doctor) run(ctx context.Context) {
	if !d.reachable(ctx) {
		return
	}
	d.sso(ctx)
	if !d.application(ctx) {
		return
	}
	sn, ok := d.authorization(ctx)
	if !ok {
		return
	}
	d.authorizedAs()
	d.crossScope(ctx, sn)
	// Without table access the user record cannot be read either: one
	// cause, one message.
	if d.tableAccess(ctx, sn) {
		d.user(ctx, sn)
	}
	d.lifespans()
}

// noFollow is the doctor's client for probes: the unauthenticated guarded
// client, but redirects are answers to look at, not to follow.
func (d *doctor) noFollow() *http.Client {
	hc := *d.svc.http
	hc.Timeout = 20 * time.Second
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// probe GETs a path without credentials and returns the answer with up to
// maxProbeBytes of its body.
func (d *doctor) probe(ctx context.Context, path string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.c.InstanceURL+path, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json, text/html")
	resp, err := d.noFollow().Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBytes))
	return resp, string(body), err
}

// reachable: the instance answers over valid TLS; its Date header gives the
// clock check.
func (d *doctor) reachable(ctx context.Context) bool {
	resp, _, err := d.probe(ctx, "/api/now/table/incident?sysparm_limit=1")
	if err != nil {
		cause, msg := classify(&servicenow.Error{Err: err})
		fix := "Check the instance name or URL, DNS, and that this machine may reach the instance over HTTPS (firewall, proxy allow-list)."
		if cause == CauseTLS {
			fix = "Use the instance's real address (its certificate must match it); for an on-premise instance, install a certificate from an authority this machine trusts."
		}
		return d.add(CheckReachable, false, d.c.InstanceURL+" could not be reached: "+msg+". The other checks need the instance and were not run.", fix)
	}
	how := "over TLS with a valid certificate"
	if resp.TLS == nil {
		how = "over plain http (a simulator on this machine)"
	}
	d.add(CheckReachable, true, fmt.Sprintf("%s answered %s.", d.c.InstanceURL, how), "")
	d.clock(resp)
	return true
}

// clock compares the instance's Date header with the center's clock.
func (d *doctor) clock(resp *http.Response) {
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		d.add(CheckClock, true, "The instance sent no Date header; the clocks could not be compared.", "")
		return
	}
	skew := d.svc.now().Sub(date).Round(time.Second)
	if skew < 0 {
		skew = -skew
	}
	if skew > MaxClockSkew {
		d.add(CheckClock, false, fmt.Sprintf("The center's clock and the instance's differ by %s.", skew),
			"Synchronise this machine's clock with NTP (for example systemd-timesyncd or chrony); ServiceNow instances keep accurate time. Token expiry and the ticket sync depend on it.")
		return
	}
	d.add(CheckClock, true, fmt.Sprintf("The clocks agree within %s.", MaxClockSkew), "")
}

// application: the authorization endpoint accepts the client id and the
// center's redirect URL. The instance checks both before it shows a login
// page, and shows an error page instead when either is wrong. It returns
// false when the application itself is missing: no token can work then, so
// the token checks would only repeat the same problem.
func (d *doctor) application(ctx context.Context) bool {
	q := url.Values{"response_type": {"code"}, "client_id": {d.c.ClientID}, "redirect_uri": {d.svc.cfg.RedirectURL}, "state": {"doctor"}}
	resp, body, err := d.probe(ctx, servicenow.AuthorizePath+"?"+q.Encode())
	if err != nil {
		_, msg := classify(&servicenow.Error{Err: err})
		d.add(CheckApplication, false, "The authorization page could not be loaded: "+msg, "")
		return true
	}
	lower := strings.ToLower(body)
	switch {
	case resp.StatusCode >= 400 && strings.Contains(lower, "redirect_uri"):
		d.add(CheckApplication, false, "The instance does not accept the center's redirect URL for client id "+d.c.ClientID+".",
			"In System OAuth > Application Registry, open the entry with this client id and set its Redirect URL to exactly "+d.svc.cfg.RedirectURL+".")
	case resp.StatusCode >= 400 && strings.Contains(lower, "client"):
		return d.add(CheckApplication, false, "The instance has no active Application Registry entry with client id "+d.c.ClientID+", so no token can work; the checks that need one were not run.",
			"Create it (System OAuth > Application Registry > New > Create an OAuth API endpoint for external clients) with the Redirect URL "+d.svc.cfg.RedirectURL+", or activate it, or run the installation checklist; then connect with its client id and secret.")
	case resp.StatusCode >= 400:
		d.add(CheckApplication, false, fmt.Sprintf("The authorization page answered %d.", resp.StatusCode), "Open "+d.c.InstanceURL+servicenow.AuthorizePath+" in a browser to see the instance's message.")
	default:
		d.add(CheckApplication, true, "The Application Registry entry exists, is active and accepts the redirect URL "+d.svc.cfg.RedirectURL+".", "")
	}
	return true
}

// sso: a login page without a local form sends the integration user to
// the identity provider, where it has no account.
func (d *doctor) sso(ctx context.Context) {
	resp, body, err := d.probe(ctx, "/login.do")
	if err != nil {
		return
	}
	redirectedAway := false
	if loc, err := resp.Location(); err == nil && loc.Host != "" {
		base, _ := url.Parse(d.c.InstanceURL)
		redirectedAway = !strings.EqualFold(loc.Host, base.Host)
	}
	hasLocalForm := strings.Contains(body, `name="user_name"`) && strings.Contains(body, `name="user_password"`)
	if redirectedAway || (resp.StatusCode == http.StatusOK && !hasLocalForm) {
		d.add(CheckSSO, false, "The instance signs people in with single sign-on, so the authorization page sends the integration user to the identity provider, where it has no account.",
			"Authorize with the local login: on the instance's login page choose \"Not you? Log in with a local account\", or open "+d.c.InstanceURL+"/side_door.do first and sign in there as the integration user with its local password; then press Authorize again.")
		return
	}
	d.add(CheckSSO, true, "The login page offers the local login the integration user needs.", "")
}

// authorization: a valid token, refreshed if due. Everything after needs it.
func (d *doctor) authorization(ctx context.Context) (*servicenow.Client, bool) {
	ci, err := d.svc.ConnectedInstance(ctx, d.c.ID)
	if err == nil {
		// A cached token may have been revoked on the instance since: one
		// call tells, and a 401 makes the next ConnectedInstance refresh.
		_, _, perr := servicenow.NewClient(ci.BaseURL, ci.HTTPClient).List(ctx, "incident", servicenow.ListOptions{Fields: []string{"sys_id"}, Limit: 1, NoCount: true})
		if servicenow.IsUnauthorized(perr) {
			ci, err = d.svc.ConnectedInstance(ctx, d.c.ID)
		}
	}
	if err != nil {
		msg := scorebridge.ErrorMessage(err)
		fix := "Authorize again from the connection page, signed in on the instance as the integration user (not with your own account)."
		if c, ferr := d.svc.store.FindConnectionByID(ctx, d.c.ID); ferr == nil && c.Status == scorebridge.ConnectionAuthorizationRequired {
			fix = "Check on the instance that the integration user is active and not locked out and that the client secret is unchanged, then authorize again from the connection page, signed in as the integration user."
		}
		d.add(CheckAuthorization, false, msg+" The checks that need a token (cross-scope policy, integration user, table access, token lifespans) were not run.", fix)
		return nil, false
	}
	c, err := d.svc.store.FindConnectionByID(ctx, d.c.ID)
	if err == nil {
		d.c = c
	}
	as := d.c.AuthorizedAs
	if as == "" {
		as = d.c.IntegrationUser
	}
	d.add(CheckAuthorization, true, "The center holds a valid access token as "+orUnknown(as)+".", "")
	return servicenow.NewClient(ci.BaseURL, ci.HTTPClient), true
}

// authorizedAs: the tokens act as the integration user, not as the admin
// who happened to be signed in on the instance when authorizing; otherwise
// tickets are created, and changes read, as that person, with their rights.
func (d *doctor) authorizedAs() {
	if !d.c.WrongUser() {
		return
	}
	d.add(CheckAuthorizedAs, false,
		fmt.Sprintf("The connection was authorized as %s, not as the integration user %s: tickets are created as %s, with that account's rights.", d.c.AuthorizedAs, d.c.IntegrationUser, d.c.AuthorizedAs),
		fmt.Sprintf("Authorize again from the connection page signed in on the instance as %s (\"Not you?\" on the instance's page switches account), or, if %s is meant to act for the center, choose \"Keep %s\" on the connection page.", d.c.IntegrationUser, d.c.AuthorizedAs, d.c.AuthorizedAs))
}

// crossScope reads oauth_entity as the integration user. It is not meant
// to be allowed to; what matters is whether the refusal is the cross-scope
// one the troubleshooting guide describes.
func (d *doctor) crossScope(ctx context.Context, sn *servicenow.Client) {
	_, _, err := sn.List(ctx, "oauth_entity", servicenow.ListOptions{Query: "client_id=" + d.c.ClientID, Fields: []string{"sys_id"}, Limit: 1, NoCount: true})
	if fix, ok := crossScopeFix(err); ok {
		d.add(CheckCrossScope, false, "The instance refuses to read Application Registries (oauth_entity) across application scopes: \""+messageOf(err)+"\"", fix)
		return
	}
	d.add(CheckCrossScope, true, "Application Registries are not blocked by a cross-scope access policy.", "")
}

// user: the integration user exists, is active and not locked out.
func (d *doctor) user(ctx context.Context, sn *servicenow.Client) {
	if d.c.IntegrationUser == "" {
		d.add(CheckUser, true, "The integration user is not known to the center; the token works, so the user is active.", "")
		return
	}
	recs, _, err := sn.List(ctx, "sys_user", servicenow.ListOptions{Query: "user_name=" + d.c.IntegrationUser, Fields: []string{"sys_id", "active", "locked_out", "web_service_access_only"}, Limit: 1, NoCount: true})
	switch {
	case err != nil:
		d.add(CheckUser, false, "Could not read the integration user: "+describe(err), "Grant "+d.c.IntegrationUser+" the role itil, which may read users.")
	case len(recs) == 0:
		d.add(CheckUser, false, "The integration user "+d.c.IntegrationUser+" does not exist on the instance.", "Run the installation checklist, or authorize again as the user the tokens should act as.")
	case recs[0]["active"] != "true":
		d.add(CheckUser, false, d.c.IntegrationUser+" is inactive.", "Set Active on the user in User Administration > Users.")
	case recs[0]["locked_out"] == "true":
		d.add(CheckUser, false, d.c.IntegrationUser+" is locked out.", "Clear Locked out on the user in User Administration > Users.")
	default:
		d.add(CheckUser, true, d.c.IntegrationUser+" exists, is active and is not locked out.", "")
	}
}

// tableAccess reads incident and change_request; both refused for the same
// reason is one problem and one message.
func (d *doctor) tableAccess(ctx context.Context, sn *servicenow.Client) bool {
	var refused []string
	var reason string
	for _, table := range []string{"incident", "change_request"} {
		_, _, err := sn.List(ctx, table, servicenow.ListOptions{Fields: []string{"sys_id"}, Limit: 1, NoCount: true})
		if err != nil {
			refused = append(refused, table)
			reason = describe(err)
		}
	}
	if len(refused) == 0 {
		return d.add(CheckTableAccess, true, "The integration user may read incident and change_request.", "")
	}
	return d.add(CheckTableAccess, false, fmt.Sprintf("The integration user may not read %s (%s).", strings.Join(refused, " and "), reason),
		"Grant "+orUnknown(d.c.IntegrationUser)+" the role itil (User Administration > Users > Roles), which creates and reads incidents and change requests.")
}

// lifespans: the refresh token is not about to run out and the access
// token lives long enough to be worth caching.
func (d *doctor) lifespans() {
	now := d.svc.now()
	c := d.c
	if c.RefreshTokenExpiresAt != nil && c.RefreshTokenExpiresSoon(now) {
		left := c.RefreshTokenExpiresAt.Sub(now).Round(time.Hour)
		d.add(CheckLifespans, false, fmt.Sprintf("The refresh token runs out in %s (%s); after that an admin must authorize again.", left, c.RefreshTokenExpiresAt.UTC().Format(time.RFC1123)),
			"Authorize again before then. To be asked less often, raise Refresh Token Lifespan on the Application Registry entry (ServiceNow's default is 8,640,000 seconds, 100 days).")
		return
	}
	if life := d.svc.session(c.ID).lifespan(); life > 0 && life < MinAccessTokenLifespan {
		d.add(CheckLifespans, false, fmt.Sprintf("Access tokens live only about %s, so almost every call refreshes first.", life.Round(time.Second)),
			"Set Access Token Lifespan on the Application Registry entry to 1800 seconds (ServiceNow's default).")
		return
	}
	msg := "The token lifespans are sensible"
	if c.RefreshTokenExpiresAt != nil {
		msg += "; the refresh token runs until " + c.RefreshTokenExpiresAt.UTC().Format(time.RFC1123)
	}
	d.add(CheckLifespans, true, msg+".", "")
}

func messageOf(err error) string {
	var se *servicenow.Error
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}
