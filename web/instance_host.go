package web

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// instanceHost is how an instance URL is shown to people: an
// internationalised host in its punycode form (what the center dials)
// beside the Unicode one, so a look-alike cannot pass for the host it
// imitates. Other URLs are shown as they are.
func instanceHost(instanceURL string) string {
	u, err := url.Parse(instanceURL)
	if err != nil || u.Host == "" {
		return instanceURL
	}
	host := u.Hostname()
	if !strings.Contains(host, "xn--") {
		return instanceURL
	}
	uni, err := idna.ToUnicode(host)
	if err != nil || uni == host {
		return instanceURL
	}
	return instanceURL + " (" + uni + ")"
}
