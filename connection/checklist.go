package connection

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// Defaults of the installation checklist.
const (
	// DefaultIntegrationUser is the user_name the checklist creates.
	DefaultIntegrationUser = "scorebridge.integration"
	// ApplicationName is the name of the oauth_entity the checklist creates.
	ApplicationName = "scorebridge"
	// AccessTokenLifespan is the access_token_lifespan the checklist sets,
	// ServiceNow's default (seconds).
	AccessTokenLifespan = 1800
	// RefreshTokenLifespan is the refresh_token_lifespan the checklist sets,
	// ServiceNow's default of 100 days (seconds).
	RefreshTokenLifespan = 8640000
)

// IntegrationRoles are the roles the integration user needs, and nothing
// more: itil creates and reads incidents and change requests and reads the
// users, groups and choice lists the tickets refer to.
var IntegrationRoles = []string{"itil"}

// elevatedRoles are roles an integration user must not hold: any of them
// gives a stolen token far more than tickets.
var elevatedRoles = []string{"admin", "security_admin", "oauth_admin", "user_admin", "itil_admin", "web_service_admin"}

// RunChecklist creates the integration user and the oauth_entity with the
// admin credentials given (used for this run only, never stored), checks
// every step, and creates the pending connection when all passed. Returns
// EINVALID for bad input; a failed step is in the result.
func (s *Service) RunChecklist(ctx context.Context, in scorebridge.ChecklistInput) (*scorebridge.ChecklistResult, error) {
	base, err := s.parseInstance(in.Instance)
	if err != nil {
		return nil, err
	}
	user := strings.TrimSpace(in.IntegrationUser)
	if user == "" {
		user = DefaultIntegrationUser
	}
	switch {
	case strings.TrimSpace(in.AdminUser) == "":
		return nil, scorebridge.FieldErrorf("adminUser", "Give the user name of a ServiceNow admin; it is used for this run only and never stored.")
	case in.AdminPassword == "":
		return nil, scorebridge.FieldErrorf("adminPassword", "Give the admin's password; it is used for this run only and never stored.")
	case len(user) > 40 || strings.ContainsAny(user, " \t\r\n^=,"):
		return nil, scorebridge.FieldErrorf("integrationUser", "The integration user name must be at most 40 characters, without spaces or the characters ^ = ,")
	case in.IntegrationPassword != "" && len(in.IntegrationPassword) < 12:
		return nil, scorebridge.FieldErrorf("integrationPassword", "The integration user's password must be at least 12 characters, or leave it empty to have one generated.")
	case len(in.IntegrationPassword) > 128:
		return nil, scorebridge.FieldErrorf("integrationPassword", "The integration user's password must be at most 128 characters.")
	}
	for field, v := range map[string]string{"adminUser": in.AdminUser, "integrationUser": user} {
		if err := scorebridge.ValidateIdentifier(field, v); err != nil {
			return nil, err
		}
	}
	r := &checklistRun{
		svc: s, base: base, user: user, password: in.IntegrationPassword, resetPassword: in.ResetPassword,
		sn: servicenow.NewClient(base, &http.Client{
			Transport:     &basicAuth{user: strings.TrimSpace(in.AdminUser), password: in.AdminPassword, base: s.http.Transport},
			Timeout:       s.http.Timeout,
			CheckRedirect: s.http.CheckRedirect,
		}),
		result: &scorebridge.ChecklistResult{},
	}
	r.run(ctx)
	return r.result, nil
}

// basicAuth authenticates as the admin for the checklist's run.
type basicAuth struct {
	user, password string
	base           http.RoundTripper
}

func (b *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	r2.SetBasicAuth(b.user, b.password)
	return b.base.RoundTrip(r2)
}

// checklistRun is one run of the checklist: each step appends its check and
// says whether the next steps can run.
type checklistRun struct {
	svc      *Service
	base     string
	user     string
	password string // "" to generate one
	// resetPassword: the admin confirmed that an existing integration
	// user may get a new password.
	resetPassword bool
	sn            *servicenow.Client
	result        *scorebridge.ChecklistResult

	userSysID    string
	clientID     string
	clientSecret string
}

func (r *checklistRun) check(name string, ok bool, message, fix string) bool {
	r.result.Checks = append(r.result.Checks, scorebridge.Check{Name: name, OK: ok, Message: message, Fix: fix})
	return ok
}

func (r *checklistRun) run(ctx context.Context) {
	steps := []func(context.Context) bool{r.admin, r.integrationUser, r.roles, r.application, r.verifyApplication, r.connection}
	for _, step := range steps {
		if !step(ctx) {
			return
		}
	}
}

// admin checks the instance answers and takes the admin credentials.
func (r *checklistRun) admin(ctx context.Context) bool {
	const name = "Instance reachable, admin credentials accepted"
	// Reading role grants needs an administrator: a user who may not is
	// refused here, before anything is created.
	_, _, err := r.sn.List(ctx, "sys_user_has_role", servicenow.ListOptions{Fields: []string{"sys_id"}, Limit: 1, NoCount: true})
	switch {
	case err == nil:
		return r.check(name, true, r.base+" answered and accepted the admin credentials.", "")
	case servicenow.IsUnauthorized(err):
		return r.check(name, false, "The instance refused the admin user name or password.",
			"Check them; an admin who signs in with single sign-on needs a local password for this (set one on the sys_user record), or create the integration user and the Application Registry entry by hand and connect with the client id and secret.")
	case isForbidden(err):
		return r.check(name, false, "The user is not an admin on this instance: "+describe(err), "Run the checklist with a user that holds the admin role (or user_admin and oauth_admin).")
	}
	_, msg := classify(err)
	return r.check(name, false, r.base+" could not be reached: "+msg, "Check the instance name or URL, and that this machine can reach it over HTTPS.")
}

// integrationUser creates the integration user, or sets a new password on
// an existing one so the admin can sign in as it to authorize.
func (r *checklistRun) integrationUser(ctx context.Context) bool {
	const name = "Integration user"
	password, generated := r.password, false
	if password == "" {
		password, generated = newPassword(), true
	}
	recs, _, err := r.sn.List(ctx, "sys_user", servicenow.ListOptions{Query: "user_name=" + r.user, Fields: []string{"sys_id", "active", "locked_out"}, Limit: 1, NoCount: true})
	if err != nil {
		return r.check(name, false, "Could not look up the user "+r.user+": "+describe(err), "Check that the admin may read sys_user.")
	}
	fields := map[string]string{
		"active": "true", "locked_out": "false",
		// The user must reach the consent page in a browser to authorize,
		// so it cannot be limited to web services.
		"web_service_access_only": "false",
	}
	verb := "created"
	if len(recs) == 0 {
		fields["user_name"] = r.user
		fields["first_name"] = "scorebridge"
		fields["last_name"] = "integration"
		rec, err := r.sn.Create(ctx, "sys_user", fields)
		if err != nil {
			return r.check(name, false, "Could not create the user "+r.user+": "+describe(err), "Check that the admin may create users (user_admin or admin).")
		}
		r.userSysID = rec.SysID()
	} else {
		if !r.resetPassword {
			// Asked first: the account may be in use elsewhere, and a new
			// password signs that out.
			return r.check(name, false, fmt.Sprintf("%s already exists on the instance. The checklist would give it a new password, which stops anything that signs in with the current one. Nothing was changed.", r.user),
				fmt.Sprintf("Run the checklist again with \"Reset the password of %s\" ticked (resetPassword in the API), or choose another integration user name.", r.user))
		}
		verb = "already existed; it was made active and given a new password"
		r.userSysID = recs[0].SysID()
		if _, err := r.sn.Update(ctx, "sys_user", r.userSysID, fields); err != nil {
			return r.check(name, false, "Could not update the user "+r.user+": "+describe(err), "Check that the admin may update users (user_admin or admin).")
		}
	}
	if err := r.sn.SetPassword(ctx, r.userSysID, password); err != nil {
		return r.check(name, false, "Could not set the password of "+r.user+": "+describe(err), "Check that the admin may update users (user_admin or admin).")
	}
	if generated {
		r.result.IntegrationPassword = password
		return r.check(name, true, fmt.Sprintf("%s %s. Its generated password is shown once below: sign in with it to authorize.", r.user, verb), "")
	}
	return r.check(name, true, fmt.Sprintf("%s %s, with the password you gave.", r.user, strings.Replace(verb, "a new password", "your password", 1)), "")
}

// roles grants the integration roles and checks nothing more is held.
func (r *checklistRun) roles(ctx context.Context) bool {
	const name = "Integration user roles"
	held, err := r.userRoles(ctx)
	if err != nil {
		return r.check(name, false, "Could not read the roles of "+r.user+": "+describe(err), "Check that the admin may read sys_user_has_role.")
	}
	for _, role := range IntegrationRoles {
		if slices.Contains(held, role) {
			continue
		}
		roles, _, err := r.sn.List(ctx, "sys_user_role", servicenow.ListOptions{Query: "name=" + role, Fields: []string{"sys_id"}, Limit: 1, NoCount: true})
		if err != nil || len(roles) == 0 {
			return r.check(name, false, "The role "+role+" was not found on the instance.", "Activate the plugin that provides "+role+" (ITSM), then run the checklist again.")
		}
		if _, err := r.sn.Create(ctx, "sys_user_has_role", map[string]string{"user": r.userSysID, "role": roles[0].SysID()}); err != nil {
			return r.check(name, false, "Could not grant "+role+" to "+r.user+": "+describe(err), "Grant the role by hand (User Administration > Users), then run the checklist again.")
		}
	}
	if held, err = r.userRoles(ctx); err != nil {
		return r.check(name, false, "Could not read the roles back: "+describe(err), "")
	}
	var extra []string
	for _, role := range held {
		if slices.Contains(elevatedRoles, role) {
			extra = append(extra, role)
		}
	}
	if len(extra) > 0 {
		return r.check(name, false, fmt.Sprintf("%s holds %s, more than it needs.", r.user, strings.Join(extra, ", ")),
			"Remove those roles from the user: an integration user needs only "+strings.Join(IntegrationRoles, ", ")+".")
	}
	return r.check(name, true, fmt.Sprintf("%s holds %s and no elevated role.", r.user, strings.Join(IntegrationRoles, ", ")), "")
}

// userRoles lists the names of the roles granted to the integration user.
func (r *checklistRun) userRoles(ctx context.Context) ([]string, error) {
	grants, _, err := r.sn.List(ctx, "sys_user_has_role", servicenow.ListOptions{Query: "user=" + r.userSysID, Fields: []string{"role"}, NoCount: true})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, g := range grants {
		role, err := r.sn.Get(ctx, "sys_user_role", g["role"], "name")
		if err != nil {
			return nil, err
		}
		names = append(names, role["name"])
	}
	return names, nil
}

// application creates the oauth_entity, or rotates the secret of the one a
// previous run made (a client secret cannot be read back).
func (r *checklistRun) application(ctx context.Context) bool {
	const name = "OAuth application registry entry"
	r.clientSecret = newPassword()
	fields := map[string]string{
		"redirect_url":           r.svc.cfg.RedirectURL,
		"client_secret":          r.clientSecret,
		"access_token_lifespan":  strconv.Itoa(AccessTokenLifespan),
		"refresh_token_lifespan": strconv.Itoa(RefreshTokenLifespan),
		"active":                 "true",
		"public_client":          "false",
	}
	recs, _, err := r.sn.List(ctx, "oauth_entity", servicenow.ListOptions{Query: "name=" + ApplicationName, Fields: []string{"sys_id", "client_id"}, Limit: 1, NoCount: true})
	if err != nil {
		if fix, ok := crossScopeFix(err); ok {
			return r.check(name, false, "The instance refused to read the Application Registries: "+describe(err), fix)
		}
		return r.check(name, false, "Could not read the Application Registries: "+describe(err), "Check that the admin may read oauth_entity (admin or oauth_admin).")
	}
	if len(recs) > 0 && recs[0]["client_id"] != "" {
		r.clientID = recs[0]["client_id"]
		if _, err := r.sn.Update(ctx, "oauth_entity", recs[0].SysID(), fields); err != nil {
			return r.check(name, false, "Could not update the application "+ApplicationName+": "+describe(err), "Check that the admin may write oauth_entity.")
		}
		return r.check(name, true, fmt.Sprintf("The application %s existed; its redirect URL, token lifespans and client secret were set.", ApplicationName), "")
	}
	r.clientID = newClientID()
	fields["name"] = ApplicationName
	fields["client_id"] = r.clientID
	fields["type"] = "client"
	fields["comments"] = "OAuth client of the scorebridge security posture center. Created by its installation checklist."
	if _, err := r.sn.Create(ctx, "oauth_entity", fields); err != nil {
		if fix, ok := crossScopeFix(err); ok {
			return r.check(name, false, "The instance refused the Application Registries: "+describe(err), fix)
		}
		return r.check(name, false, "Could not create the application "+ApplicationName+": "+describe(err), "Check that the admin may create oauth_entity records (admin or oauth_admin).")
	}
	return r.check(name, true, fmt.Sprintf("Created the application %s with the redirect URL %s and token lifespans of %s (access) and %s (refresh).",
		ApplicationName, r.svc.cfg.RedirectURL, lifespanWords(AccessTokenLifespan), lifespanWords(RefreshTokenLifespan)), "")
}

// verifyApplication reads the entry back, since an instance's business
// rules may change what was written.
func (r *checklistRun) verifyApplication(ctx context.Context) bool {
	const name = "OAuth application verified"
	recs, _, err := r.sn.List(ctx, "oauth_entity", servicenow.ListOptions{Query: "client_id=" + r.clientID,
		Fields: []string{"redirect_url", "active", "access_token_lifespan", "refresh_token_lifespan"}, Limit: 1, NoCount: true})
	if err != nil || len(recs) == 0 {
		return r.check(name, false, "The application could not be read back.", "Open System OAuth > Application Registry and check the entry "+ApplicationName+".")
	}
	e := recs[0]
	if !redirectListed(e["redirect_url"], r.svc.cfg.RedirectURL) {
		return r.check(name, false, "Its redirect URL is "+e["redirect_url"]+", not "+r.svc.cfg.RedirectURL+".", "Set the Redirect URL of "+ApplicationName+" to "+r.svc.cfg.RedirectURL+".")
	}
	if e["active"] != "true" {
		return r.check(name, false, "The application is not active.", "Tick Active on the entry "+ApplicationName+".")
	}
	return r.check(name, true, "Redirect URL, lifespans and active flag read back as written.", "")
}

// connection stores the connection (or the rotated secret of an existing
// one) and writes the status property on the instance.
func (r *checklistRun) connection(ctx context.Context) bool {
	const name = "Connection saved"
	s := r.svc
	lifespan := time.Duration(RefreshTokenLifespan) * time.Second
	c, err := s.store.FindConnectionByClient(ctx, r.base, r.clientID)
	switch {
	case err == nil:
		if err := s.store.UpdateClientSecret(ctx, c.ID, r.clientSecret, lifespan, connectionEvent(c, "client_secret_replaced", map[string]any{"by": "checklist"})); err != nil {
			return r.check(name, false, "Could not save the new client secret: "+scorebridge.ErrorMessage(err), "")
		}
	case scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND:
		c = &scorebridge.Connection{ID: newID(), InstanceURL: r.base, ClientID: r.clientID, IntegrationUser: r.user, RefreshTokenLifespan: lifespan}
		if err := s.store.CreateConnection(ctx, c, r.clientSecret, connectionEvent(c, "created", map[string]any{"by": "checklist", "integration_user": r.user})); err != nil {
			return r.check(name, false, "Could not save the connection: "+scorebridge.ErrorMessage(err), "")
		}
	default:
		return r.check(name, false, "Could not save the connection: "+scorebridge.ErrorMessage(err), "")
	}
	s.forget()
	if c, err = s.store.FindConnectionByID(ctx, c.ID); err != nil {
		return r.check(name, false, "Could not read the connection back: "+scorebridge.ErrorMessage(err), "")
	}
	r.result.Connection = c
	_ = writeStatusProperty(ctx, r.sn, statusText(c, s.now()))
	s.log.Info("installation checklist completed", "connection", c.ID, "instance", c.InstanceURL, "integration_user", r.user, "actor", scorebridge.ActorFromContext(ctx))
	return r.check(name, true, "The connection is saved with the client secret encrypted. Next: authorize, signed in on the instance as "+r.user+".", "")
}

func redirectListed(list, want string) bool {
	for _, u := range strings.Split(list, ",") {
		if strings.TrimSpace(u) == want {
			return true
		}
	}
	return false
}

func lifespanWords(seconds int) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

// newPassword returns a random password that meets ServiceNow's default
// password policy (upper, lower, digit, symbol, length).
func newPassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return "Sb-" + base64.RawURLEncoding.EncodeToString(b) + "9a"
}

// newClientID returns a client id shaped like ServiceNow's: 32 hex digits.
func newClientID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func isForbidden(err error) bool {
	var se *servicenow.Error
	return errors.As(err, &se) && se.StatusCode == http.StatusForbidden
}

// crossScopeMessage is the recognisable part of the refusal the
// troubleshooting guide describes.
const crossScopeMessage = "cross-scope access policy"

// crossScopeFix recognises the documented cross-scope refusal on
// oauth_entity and returns the documented fix.
func crossScopeFix(err error) (string, bool) {
	var se *servicenow.Error
	if !errors.As(err, &se) || !strings.Contains(se.Message+" "+se.Detail, crossScopeMessage) {
		return "", false
	}
	return "In System Definition > Tables, open Application Registries (oauth_entity), and on its Application Access tab set Accessible from to \"All application scopes\" with \"Can read\" checked. Then run this again.", true
}
