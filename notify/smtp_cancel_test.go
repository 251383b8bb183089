package notify_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/notify"
)

// A delivery whose context is cancelled mid-exchange ends at once, not at
// its timeout: a replica whose lease lapsed must not still be sending when
// another works the job again.
func TestSMTP_CancelEndsDelivery(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	// The server greets, reads the EHLO and never answers it: the client
	// is then mid-exchange, past its dial.
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, "220 stalling ESMTP\r\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && strings.HasPrefix(line, "EHLO") {
			accepted <- c
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		s := &notify.SMTPSender{AllowPrivate: true, Timeout: time.Minute}
		done <- s.Send(ctx, &scorebridge.NotificationTarget{SMTPHost: host, SMTPPort: p}, scorebridge.NotificationSecrets{}, notify.Message{Subject: "s", Text: "t"})
	}()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no EHLO within 10s")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled delivery succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled delivery still waiting on the server after 10s")
	}
}
