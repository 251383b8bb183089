package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// SMTPSender sends messages by email. It always upgrades the connection
// with STARTTLS before anything else (a server that does not offer it is
// refused, so credentials and content never travel in clear), checks the
// server's certificate, and dials only addresses the outbound guard
// admits.
type SMTPSender struct {
	// AllowPrivate admits mail servers on loopback and private addresses.
	AllowPrivate bool
	// RootCAs replaces the system roots (tests with a self-signed server).
	RootCAs *x509.CertPool
	// Hello is the name given in EHLO. Default "localhost".
	Hello string
	// Timeout bounds one delivery. Default 30 seconds.
	Timeout time.Duration
}

// Send delivers m to the target's recipients.
func (s *SMTPSender) Send(ctx context.Context, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets, m Message) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(t.SMTPHost, strconv.Itoa(t.SMTPPort))
	conn, err := servicenow.GuardedDialer(s.AllowPrivate).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// net/smtp takes no context: a delivery cancelled (the replica's
	// lease lapsed, a stop) ends the exchange at once, so it is not still
	// sending when another replica works the job again.
	cut := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer cut()
	c, err := smtp.NewClient(conn, t.SMTPHost)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("%s: EHLO: %w", addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("%s does not offer STARTTLS; mail is only sent encrypted", addr)
	}
	if err := c.StartTLS(&tls.Config{ServerName: t.SMTPHost, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
		return fmt.Errorf("%s: STARTTLS: %w", addr, err)
	}
	if t.SMTPUsername != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("%s does not offer AUTH, but the target has a user name", addr)
		}
		if err := c.Auth(smtp.PlainAuth("", t.SMTPUsername, sec.SMTPPassword, t.SMTPHost)); err != nil {
			return fmt.Errorf("%s: the server refused the SMTP credentials: %w", addr, err)
		}
	}
	if err := c.Mail(t.From); err != nil {
		return fmt.Errorf("%s: MAIL FROM: %w", addr, err)
	}
	for _, to := range t.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("%s: RCPT TO %s: %w", addr, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("%s: DATA: %w", addr, err)
	}
	if _, err := w.Write(mailBody(t, m)); err != nil {
		return fmt.Errorf("%s: DATA: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: the server refused the message: %w", addr, err)
	}
	// The message was accepted; a rude goodbye loses nothing.
	_ = c.Quit()
	return nil
}

// mailBody is the message in RFC 5322 form, its text quoted-printable.
func mailBody(t *scorebridge.NotificationTarget, m Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "scorebridge.invalid"
	if at := strings.LastIndexByte(t.From, '@'); at >= 0 {
		domain = t.From[at+1:]
	}
	fmt.Fprintf(&b, "From: %s\r\n", t.From)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(t.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", m.SentAt.UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}
