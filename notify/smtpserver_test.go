package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// mail is one message the test SMTP server accepted.
type mail struct {
	from     string
	to       []string
	auth     string // the AUTH PLAIN credentials, "user:password"
	startTLS bool
	data     string
}

// smtpServer is a small SMTP server on a loopback listener, speaking what
// a submission server does: EHLO, STARTTLS with a self-signed certificate,
// AUTH PLAIN (only after STARTTLS), MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	addr  string
	roots *x509.CertPool
	mails chan mail
	ln    net.Listener
	tls   *tls.Config
}

func startSMTP(t *testing.T, user, password string) *smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{addr: ln.Addr().String(), roots: roots, mails: make(chan mail, 100), ln: ln,
		tls: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, user, password)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn, user, password string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	var m mail
	_ = tp.PrintfLine("220 127.0.0.1 ESMTP test")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			exts := []string{"250-127.0.0.1 hello " + arg}
			if !m.startTLS {
				exts = append(exts, "250-STARTTLS")
			} else {
				exts = append(exts, "250-AUTH PLAIN")
			}
			exts = append(exts, "250 8BITMIME")
			for _, e := range exts {
				_ = tp.PrintfLine("%s", e)
			}
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			m.startTLS = true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !m.startTLS || !strings.EqualFold(mech, "PLAIN") {
				_ = tp.PrintfLine("538 encryption required")
				continue
			}
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if len(parts) != 3 || parts[1] != user || parts[2] != password {
				_ = tp.PrintfLine("535 authentication failed")
				continue
			}
			m.auth = parts[1] + ":" + parts[2]
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			if user != "" && m.auth == "" {
				_ = tp.PrintfLine("530 authentication required")
				continue
			}
			m.from = between(arg, "<", ">")
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			m.to = append(m.to, between(arg, "<", ">"))
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.data = string(data)
			_ = tp.PrintfLine("250 queued")
			s.mails <- m
			m = mail{startTLS: m.startTLS, auth: m.auth}
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

// between is the text of s between the first open and the close after it.
func between(s, open, close string) string {
	_, rest, _ := strings.Cut(s, open)
	v, _, _ := strings.Cut(rest, close)
	return v
}
