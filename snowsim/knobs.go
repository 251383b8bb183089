package snowsim

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Knobs are the behaviours of an instance that tests and demos switch on:
// OAuth grants, single sign-on, rate limits, injected faults and outbound
// notifications. They are Options.Knobs; each also has a method that is
// safe to call while the instance serves. The zero value is a plain fresh
// instance.
type Knobs struct {
	// SSO makes the login pages show the single sign-on notice instead of
	// the local login form, as an instance with SSO does; the "Not you?"
	// link (side_door.do) still offers the local form. See SetSSO.
	SSO bool
	// ClientCredentials enables the client_credentials grant by setting the
	// system property glide.oauth.inbound.client.credential.grant_type.enabled
	// (off on a fresh instance). See SetClientCredentials.
	ClientCredentials bool
	// RateLimitPerHour, when > 0, adds a rate limit rule for all users and
	// every REST API allowing that many requests per user per hour.
	RateLimitPerHour int
	// RateLimitPerSecond, when > 0, refuses a user's requests beyond that
	// rate (a token bucket whose burst is the rate rounded up).
	RateLimitPerSecond float64
	// Faults are the failures injected into the REST APIs. See SetFaults.
	Faults Faults
	// FaultSeed seeds the random choices of fault injection so a test sees
	// the same faults on every run; 0 picks a random seed.
	FaultSeed uint64
	// NotifyURL, when set, receives every insert and update of a task
	// record as JSON, like an async business rule (notify.go).
	NotifyURL string
	// NotifyWorkers is how many deliveries run at once. Default 4.
	NotifyWorkers int
	// NotifyMaxDelay holds each delivery back by a random delay below it,
	// to shuffle their order on purpose. Default 0.
	NotifyMaxDelay time.Duration
	// NotifyAttempts is how many times a failing delivery is tried in all.
	// Default 3.
	NotifyAttempts int
}

func (k Knobs) validate() error {
	if k.RateLimitPerHour < 0 {
		return fmt.Errorf("snowsim: rate limit per hour must not be negative")
	}
	if k.RateLimitPerSecond < 0 || math.IsNaN(k.RateLimitPerSecond) || math.IsInf(k.RateLimitPerSecond, 0) {
		return fmt.Errorf("snowsim: rate limit per second must not be negative")
	}
	if k.NotifyWorkers < 0 || k.NotifyAttempts < 0 || k.NotifyMaxDelay < 0 {
		return fmt.Errorf("snowsim: notification workers, attempts and delay must not be negative")
	}
	if err := checkNotifyURL(k.NotifyURL); err != nil {
		return err
	}
	return k.Faults.validate()
}

// extState is the per-instance state of the parts in this file's siblings:
// OAuth, browser logins, rate limits, faults and notifications.
type extState struct {
	sso      atomic.Bool
	oauth    *oauthServer
	logins   *loginStore
	limits   *rateLimiter
	faults   *faultInjector
	outbound *notifier
	ui       *uiPages
}

func init() { registerExtension(setUpExtensions) }

// setUpExtensions wires OAuth, Bearer authentication, browser logins, the
// agent UI, rate limits, faults and notifications into a new instance.
func setUpExtensions(in *Instance) {
	k := in.opts.Knobs // validated by New
	x := &extState{
		limits:   newRateLimiter(in.clock),
		faults:   newFaultInjector(k.Faults, k.FaultSeed),
		outbound: newNotifier(k),
	}
	x.logins = newLoginStore(in.clock)
	x.oauth = newOAuthServer(in)
	x.ui = newUIPages(in)
	in.ext = x
	x.sso.Store(k.SSO)

	addOAuthApplicationUser(in)
	if k.ClientCredentials {
		// Writing a seeded property of a fresh instance cannot fail.
		_ = in.SetClientCredentials(true)
	}
	if k.RateLimitPerHour > 0 {
		_ = in.SetRateLimitPerHour(k.RateLimitPerHour)
	}
	x.limits.perSec = k.RateLimitPerSecond

	in.SetBearerLookup(x.oauth.bearerUser)
	in.AddHook(x.limits.hook)
	in.OnWrite(func(ev WriteEvent) { x.outbound.onWrite(in, ev) })
	x.oauth.routes()
	x.ui.routes()
	in.Wrap(x.faults.middleware)
}

// SetSSO turns the single sign-on login notice on or off.
func (in *Instance) SetSSO(on bool) { in.ext.sso.Store(on) }

// SSO reports whether the login pages show the single sign-on notice.
func (in *Instance) SSO() bool { return in.ext.sso.Load() }

// SetClientCredentials enables or disables the client_credentials grant by
// writing the system property that controls it on a real instance
// (client-credentials.md). A client then also needs its OAuth Application
// User (oauth_entity.user).
func (in *Instance) SetClientCredentials(on bool) error {
	const name = "glide.oauth.inbound.client.credential.grant_type.enabled"
	value := fmt.Sprint(on)
	rows, err := in.Query("sys_properties", "name="+name)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		_, err = in.Insert("sys_properties", map[string]string{"name": name, "value": value, "type": "boolean"})
		return err
	}
	_, err = in.Update("sys_properties", rows[0]["sys_id"], map[string]string{"value": value})
	return err
}

// addOAuthApplicationUser adds the OAuth Application User field to the
// Application Registry, the field a client_credentials client runs as
// (add-oauth-application-user.md). Records that predate it read "".
func addOAuthApplicationUser(in *Instance) {
	in.mu.Lock()
	defer in.mu.Unlock()
	t := in.tables["oauth_entity"]
	if t == nil || t.Fields["user"] != nil {
		return
	}
	t.Fields["user"] = &Field{Name: "user", Label: "OAuth Application User", Type: TypeReference, Ref: "sys_user"}
	for _, id := range in.data["oauth_entity"].order {
		if rec := in.byID[id]; rec != nil {
			if _, ok := rec["user"]; !ok {
				rec["user"] = ""
			}
		}
	}
}
