package servicenow_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/servicenow"
)

// Look-alike and malformed hosts are refused with a reason; a genuine
// internationalised host is kept in its punycode form.
func TestInstanceHostLookAlikes(t *testing.T) {
	t.Parallel()
	bad := []struct{ in, reason string }{
		{"https://moc.won-ecivres.\u202eacme", "direction-changing"}, // right-to-left override
		{"https://acme\u200b.service-now.com", "invisible"},          // zero-width space
		{"https://\u0430cme.service-now.com", "mixes Latin"},         // Cyrillic а in a Latin label
		{"https://p\u03b1ypal.example.com", "mixes Latin"},           // Greek alpha
		{"https://\U0001F600.example.com", "not a valid host name"},  // emoji
		{"https://acme.service-now.com:0", "from 1 to 65535"},        // port 0
		{"https://acme.service-now.com:99999", "from 1 to 65535"},    // above 65535
		{"https://acme.service-now.com:65536", "from 1 to 65535"},    //
		{"\u0430cme.service-now.com", "mixes Latin"},                 // without a scheme
		{"https://acme\u0000.service-now.com", ""},                   // NUL: refused by the URL parser
		{"https://acme.service-now.com\u2066", "direction-changing"}, // isolate
		{"https://xn--acme-0ra.service-now.com\u00ad", "invisible"},  // soft hyphen
	}
	for _, tc := range bad {
		got, err := servicenow.ParseInstanceURL(tc.in, false)
		var ie *servicenow.InstanceURLError
		if err == nil || !errors.As(err, &ie) || !strings.Contains(ie.Reason, tc.reason) {
			t.Errorf("ParseInstanceURL(%q) = %q, %v; want a refusal saying %q", tc.in, got, err, tc.reason)
		}
	}
	// A wholly Cyrillic host is a real internationalised name: kept in
	// punycode, which is what is dialled and stored.
	got, err := servicenow.ParseInstanceURL("https://пример.рф", false)
	if err != nil || got != "https://xn--e1afmkfd.xn--p1ai" {
		t.Fatalf("ParseInstanceURL(пример.рф) = %q, %v", got, err)
	}
	if got, err := servicenow.ParseInstanceURL("https://acme.service-now.com:65535", false); err != nil || got != "https://acme.service-now.com:65535" {
		t.Errorf("port 65535: %q, %v", got, err)
	}
}

// IPv6 forms that carry a refused IPv4 address are refused like it, by the
// URL check and by the dialler; multicast is called multicast.
func TestInstanceEmbeddedIPv4Refused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, reason   string
		allowPrivate bool
	}{
		{"https://[64:ff9b::a9fe:a9fe]", "NAT64 IPv6 form of 169.254.169.254", true},
		{"https://[64:ff9b::10.0.0.1]", "NAT64 IPv6 form of 10.0.0.1, a private address", false},
		{"https://[64:ff9b:1::7f00:1]", "NAT64 IPv6 form of 127.0.0.1", false},
		{"https://[2002:a9fe:a9fe::1]", "6to4 IPv6 form of 169.254.169.254", true},
		{"https://[2002:c0a8:0101::1]", "6to4 IPv6 form of 192.168.1.1", false},
		{"https://[::ffff:10.0.0.1]", "private", false},
		{"https://[::a9fe:a9fe]", "IPv4-compatible IPv6 form of 169.254.169.254", true},
		{"https://224.0.0.1", "multicast", true},
		{"https://[ff05::2]", "multicast", true},
		{"https://[64:ff9b::e000:1]", "multicast", true},
	} {
		got, err := servicenow.ParseInstanceURL(tc.in, tc.allowPrivate)
		if err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("ParseInstanceURL(%q, %v) = %q, %v; want a refusal saying %q", tc.in, tc.allowPrivate, got, err, tc.reason)
		}
	}
	// A NAT64 form of a public address is a public address.
	if _, err := servicenow.ParseInstanceURL("https://[64:ff9b::8.8.8.8]", false); err != nil {
		t.Errorf("NAT64 form of a public address: %v", err)
	}
	for _, a := range []string{"64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1"} {
		if err := servicenow.CheckDialAddr(netip.AddrPortFrom(netip.MustParseAddr(a), 443).String(), true); err == nil || !strings.Contains(err.Error(), "169.254.169.254") {
			t.Errorf("dial %s: %v, want a refusal naming 169.254.169.254", a, err)
		}
	}
}
