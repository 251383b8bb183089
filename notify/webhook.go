package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Headers of a webhook delivery, as tracking's push endpoint takes them:
// the signature is HMAC-SHA256, in hex, of timestamp + "." + body with the
// target's signing secret.
const (
	HeaderTimestamp = "X-Scorebridge-Timestamp" // unix seconds
	HeaderSignature = "X-Scorebridge-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderEvent     = "X-Scorebridge-Event"     // "notification" or "digest"
)

// Sign returns the signature header value of body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WebhookSender POSTs messages to webhook targets through the guarded
// HTTP client (the ServiceNow client's: public addresses only, redirects
// only within the same host).
type WebhookSender struct {
	HTTPClient *http.Client
}

// maxErrorBody caps what a failing receiver's answer adds to the error.
const maxErrorBody = 512

// Send delivers m to the target's URL, signed.
func (s *WebhookSender) Send(ctx context.Context, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets, m Message) error {
	body, err := WebhookBody(t.WebhookFormat, m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sec.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", t.WebhookHost, err)
	}
	ts := m.SentAt.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "scorebridge")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	event := "notification"
	if m.Digest != scorebridge.DigestImmediate || len(m.Items) != 1 {
		event = "digest"
	}
	req.Header.Set(HeaderEvent, event)
	if sec.WebhookSecret != "" {
		req.Header.Set(HeaderSignature, Sign(sec.WebhookSecret, ts, body))
	}
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		// The URL may hold a credential (Slack's, Teams'): name the host only.
		return fmt.Errorf("webhook %s: %s", t.WebhookHost, strings.ReplaceAll(err.Error(), sec.WebhookURL, t.WebhookHost))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s answered %d: %s", t.WebhookHost, resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return nil
}

// WebhookBody is the body a target of format f is sent.
func WebhookBody(f scorebridge.WebhookFormat, m Message) ([]byte, error) {
	switch f {
	case scorebridge.WebhookSlack:
		return json.Marshal(map[string]any{"text": slackText(m)})
	case scorebridge.WebhookTeams:
		return json.Marshal(teamsCard(m))
	}
	return json.Marshal(struct {
		Source        string    `json:"source"`
		Subject       string    `json:"subject"`
		Digest        string    `json:"digest"`
		SentAt        time.Time `json:"sentAt"`
		Text          string    `json:"text"`
		Notifications []Item    `json:"notifications"`
	}{"scorebridge", m.Subject, string(m.Digest), m.SentAt.UTC(), m.Text, m.Items})
}

// slackText is the message in Slack's mrkdwn, links as <url|title>.
func slackText(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*", slackEscape(strings.TrimPrefix(m.Subject, subjectPrefix)))
	for _, it := range m.Items {
		fmt.Fprintf(&b, "\n• *%s*: %s", slackEscape(it.Label), slackEscape(it.Subject))
		if it.Details != "" {
			fmt.Fprintf(&b, "\n%s", slackEscape(it.Details))
		}
		if it.Events > 1 {
			fmt.Fprintf(&b, " (%d events)", it.Events)
		}
		for _, l := range it.Links {
			fmt.Fprintf(&b, " <%s|%s>", l.URL, slackEscape(l.Title))
		}
	}
	return b.String()
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// teamsCard is the message as a Teams workflow ("Post to a channel when a
// webhook request is received") takes it: an Adaptive Card attachment.
func teamsCard(m Message) map[string]any {
	body := []map[string]any{{"type": "TextBlock", "text": strings.TrimPrefix(m.Subject, subjectPrefix), "weight": "Bolder", "size": "Medium", "wrap": true}}
	var actions []map[string]any
	for _, it := range m.Items {
		text := it.Label + ": " + it.Subject
		if it.Details != "" {
			text += "\n\n" + it.Details
		}
		if it.Events > 1 {
			text += fmt.Sprintf(" (%d events)", it.Events)
		}
		body = append(body, map[string]any{"type": "TextBlock", "text": text, "wrap": true})
		for _, l := range it.Links {
			actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": l.Title, "url": l.URL})
		}
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body}
	if len(actions) > 0 {
		card["actions"] = actions
	}
	return map[string]any{"type": "message", "attachments": []map[string]any{{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}
}
