package servicenow

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
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
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || len(p) > 5 || strings.TrimLeft(p, "0123456789") != "" {
			return refuse("The port %q is not a number.", p)
		}
		if n < 1 || n > 65535 {
			return refuse("The port %d is not one a server can listen on: give a port from 1 to 65535.", n)
		}
	}
	if _, isIP := parseHostIP(host); !isIP {
		ascii, reason := checkHostName(host)
		if reason != "" {
			return refuse("The host %q is refused: %s", host, reason)
		}
		host = ascii
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

// IPv6 ranges whose addresses carry an IPv4 address inside them: a
// translator or relay turns a connection to one into a connection to that
// IPv4 address, so it is judged as that address.
var (
	nat64Prefix      = netip.MustParsePrefix("64:ff9b::/96")   // well-known NAT64 (RFC 6052): IPv4 in the last 32 bits
	nat64LocalPrefix = netip.MustParsePrefix("64:ff9b:1::/48") // local-use NAT64 (RFC 8215), assumed /96 as above
	sixToFourPrefix  = netip.MustParsePrefix("2002::/16")      // 6to4 (RFC 3056): IPv4 in bits 16-47
	ipv4Compatible   = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible ::a.b.c.d
)

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for
// (IPv4-mapped, NAT64, 6to4, IPv4-compatible) and the form's name.
func embeddedIPv4(a netip.Addr) (netip.Addr, string, bool) {
	if !a.Is6() {
		return netip.Addr{}, "", false
	}
	b := a.As16()
	last := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	switch {
	case a.Is4In6():
		return last, "IPv4-mapped", true
	case nat64Prefix.Contains(a) || nat64LocalPrefix.Contains(a):
		return last, "NAT64", true
	case sixToFourPrefix.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), "6to4", true
	case ipv4Compatible.Contains(a) && !a.IsUnspecified() && !a.IsLoopback():
		return last, "IPv4-compatible", true
	}
	return netip.Addr{}, "", false
}

// refusedAddr says why an address is not an instance the center may call,
// or "". allowPrivate admits loopback (the simulator) and private ranges
// (on-premise instances); link-local and metadata addresses are never
// admitted, since no instance lives there and cloud credentials do. An IPv6
// form that embeds an IPv4 address is judged as that address.
func refusedAddr(a netip.Addr, allowPrivate bool) string {
	if v4, form, ok := embeddedIPv4(a); ok {
		if reason := refusedAddr(v4, allowPrivate); reason != "" {
			return "the " + form + " IPv6 form of " + v4.String() + ", " + reason
		}
		return ""
	}
	for _, m := range metadataAddrs {
		if a == m {
			return "a cloud metadata address"
		}
	}
	switch {
	case a.IsMulticast() || a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast():
		return "a multicast address"
	case a.IsLinkLocalUnicast():
		return "a link-local address (where cloud metadata services live)"
	case a.IsUnspecified():
		return "the unspecified address (this host)"
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

// hostProfile turns an internationalised host name into its ASCII
// (punycode) form by the IDNA rules for registration, which refuse emoji,
// symbols and other characters no registry hands out.
var hostProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true),
	idna.StrictDomainName(true), idna.ValidateForRegistration())

// checkHostName returns the ASCII form of a host name, or why it is
// refused: control, format and bidirectional-override characters (which
// can make a host read as another one), a label mixing Latin with Cyrillic
// or Greek letters (a look-alike such as "аcme" with a Cyrillic а), and
// anything IDNA refuses.
func checkHostName(host string) (ascii, reason string) {
	for _, r := range host {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", fmt.Sprintf("it holds the invisible or direction-changing character %U.", r)
		}
		if r != '.' && r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return "", fmt.Sprintf("it is not a valid host name: %q (%U) is neither a letter, a digit nor a hyphen.", r, r)
		}
	}
	for _, label := range strings.Split(host, ".") {
		if mixedScript(label) {
			return "", fmt.Sprintf("the label %q mixes Latin letters with Cyrillic or Greek ones, as look-alike hosts do.", label)
		}
	}
	ascii, err := hostProfile.ToASCII(host)
	if err != nil {
		return "", "it is not a valid host name (" + err.Error() + ")."
	}
	return strings.ToLower(ascii), ""
}

// mixedScript reports whether a label mixes Latin letters with letters of
// a script that has Latin look-alikes.
func mixedScript(label string) bool {
	var latin, other bool
	for _, r := range label {
		switch {
		case unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.Is(unicode.Cyrillic, r) || unicode.Is(unicode.Greek, r):
			other = true
		}
	}
	return latin && other
}
