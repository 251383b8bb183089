package web

import "testing"

// An internationalised instance host is shown in punycode beside its
// Unicode form; an ASCII one as it is.
func TestInstanceHostShowsPunycodeBesideUnicode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://xn--e1afmkfd.xn--p1ai":       "https://xn--e1afmkfd.xn--p1ai (пример.рф)",
		"https://xn--cme-5cd.service-now.com": "https://xn--cme-5cd.service-now.com (аcme.service-now.com)",
		"https://acme.service-now.com":        "https://acme.service-now.com",
		"http://127.0.0.1:8090":               "http://127.0.0.1:8090",
	} {
		if got := instanceHost(in); got != want {
			t.Errorf("instanceHost(%q) = %q, want %q", in, got, want)
		}
	}
}
