package servicenow

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// instanceNamePattern is what ServiceNow allows in an instance name: the
// first label of <name>.service-now.com.
var instanceNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// InstanceURLError explains why an instance was refused, in words for the
// person who typed it.
type InstanceURLError struct {
	Input  string
	Reason string
}

func (e *InstanceURLError) Error() string { return e.Reason }

// ParseInstanceURL turns what an admin typed into the instance's base URL:
// an instance name such as "acme" means https://acme.service-now.com; a full
// https URL names an on-premise or test instance. It refuses, with the
// reason:
//   - plain http, except to a loopback address (the simulator) with
//     allowPrivate set;
//   - addresses in loopback and private ranges, unless allowPrivate is set
//     (the simulator, on-premise instances on a private network);
//   - link-local (cloud metadata), metadata, unspecified and multicast
//     addresses, always;
//   - user information, a path, a query or a fragment.
//
// Host names are checked again when dialling (NewHTTPClient), so a name that
// resolves to a refused address is refused too.
func ParseInstanceURL(input string, allowPrivate bool) (string, error) {
	s := strings.TrimSpace(input)
	refuse := func(format string, args ...any) (string, error) {
		return "", &InstanceURLError{Input: input, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return refuse("Give the instance: a name such as acme (for https://acme.service-now.com) or a full https URL.")
	}
	if !strings.Contains(s, "://") {
		name := strings.ToLower(s)
		if strings.HasSuffix(name, ".service-now.com") {
			return ParseInstanceURL("https://"+name, allowPrivate)
		}
		if !instanceNamePattern.MatchString(name) {
			return refuse("%q is not an instance name: use letters, digits and hyphens only (for example acme for https://acme.service-now.com), or give a full https URL.", s)
		}
		return "https://" + name + ".service-now.com", nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return refuse("%q is not a valid URL.", s)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return refuse("The instance URL must start with https://, not %s://.", u.Scheme)
	}
	if u.User != nil {
		return refuse("The instance URL must not contain a user name or password; give credentials in their own fields.")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return refuse("The instance URL must not have a query or fragment: give only https://host.")
	}
	if u.Path != "" && u.Path != "/" {
		return refuse("The instance URL must not have a path (%s): give only https://host.", u.Path)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return refuse("The instance URL %q has no host.", s)
	}
	if p := u.Port(); p != "" && (len(p) > 5 || strings.TrimLeft(p, "0123456789") != "") {
		return refuse("The port %q is not a number.", p)
	}
	addr, isIP := parseHostIP(host)
	loopback := host == "localhost" || (isIP && addr.IsLoopback())
	if scheme == "http" && !(loopback && allowPrivate) {
		return refuse("Plain http is refused: tokens would cross the network unencrypted. Use https:// (plain http is only for a simulator on this machine).")
	}
	if loopback && !allowPrivate {
		return refuse("%s is this machine, not a ServiceNow instance.", host)
	}
	if isIP {
		if reason := refusedAddr(addr, allowPrivate); reason != "" {
			return refuse("%s is %s; the center only connects to public instances.", host, reason)
		}
	}
	out := scheme + "://" + host
	if isIP && addr.Is6() {
		out = scheme + "://[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "https" && p == "443") && !(scheme == "http" && p == "80") {
		out += ":" + p
	}
	return out, nil
}

func parseHostIP(host string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// metadataAddrs are cloud metadata services outside the link-local range.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"), // AWS IMDS over IPv6
}

// sharedAddressSpace is 100.64.0.0/10 (carrier-grade NAT), also used
// internally by some clouds.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// refusedAddr says why an address is not an instance the center may call,
// or "". allowPrivate admits loopback (the simulator) and private ranges
// (on-premise instances); link-local and metadata addresses are never
// admitted, since no instance lives there and cloud credentials do.
func refusedAddr(a netip.Addr, allowPrivate bool) string {
	a = a.Unmap()
	for _, m := range metadataAddrs {
		if a == m {
			return "a cloud metadata address"
		}
	}
	switch {
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "a link-local address (where cloud metadata services live)"
	case a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "not a unicast address"
	case allowPrivate:
		return ""
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate() || sharedAddressSpace.Contains(a):
		return "a private address"
	}
	return ""
}

// checkDialAddr refuses a connection to a non-public address, whatever name
// led to it, so DNS cannot point the center at an internal service.
func checkDialAddr(address string, allowPrivate bool) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	addr, ok := parseHostIP(host)
	if !ok {
		return fmt.Errorf("servicenow: refusing to dial %q: not an IP address", address)
	}
	if reason := refusedAddr(addr, allowPrivate); reason != "" {
		return fmt.Errorf("servicenow: refusing to connect to %s: it is %s", host, reason)
	}
	return nil
}
