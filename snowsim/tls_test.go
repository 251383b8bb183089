package snowsim_test

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

func TestSelfSignedCertificateServesLoopback(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, pemBytes, err := snowsim.SelfSignedCertificate(now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Fatalf("key is %T, want ECDSA", leaf.PublicKey)
	}
	if d := leaf.NotAfter.Sub(now); d < 364*24*time.Hour || d > 367*24*time.Hour {
		t.Fatalf("valid for %v, want one year", d)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("not valid for %s: %v", host, err)
		}
	}

	in, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(in)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(func() { srv.Close(); _ = in.Close() })

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the PEM holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/now/table/incident", nil)
	req.SetBasicAuth("admin", "admin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("a client trusting the PEM: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("over TLS: %d", res.StatusCode)
	}
}
