package notify

import (
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// MaxRecipients caps an email target's To list.
const MaxRecipients = 20

// validate checks and normalises a target and the secrets given with it.
// creating says the secrets a new target needs must be there. Returns
// EINVALID naming the field.
func validate(t *scorebridge.NotificationTarget, s *scorebridge.NotificationSecrets, creating, allowPrivate bool) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || len([]rune(t.Name)) > scorebridge.MaxTitleLength {
		return scorebridge.FieldErrorf("name", "name is required, at most %d characters", scorebridge.MaxTitleLength)
	}
	switch t.Digest {
	case "":
		t.Digest = scorebridge.DigestImmediate
	case scorebridge.DigestImmediate, scorebridge.DigestHourly, scorebridge.DigestDaily:
	default:
		return scorebridge.FieldErrorf("digest", "digest must be immediate, hourly or daily")
	}
	seen := map[scorebridge.NotificationKind]bool{}
	events := []scorebridge.NotificationKind{}
	for _, k := range t.Events {
		if !k.Valid() {
			return scorebridge.FieldErrorf("events", "%q is not an event a target can hear", k)
		}
		if !seen[k] {
			seen[k] = true
			events = append(events, k)
		}
	}
	t.Events = events
	switch t.Channel {
	case scorebridge.ChannelEmail:
		return validateEmail(t, s, creating, allowPrivate)
	case scorebridge.ChannelWebhook:
		return validateWebhook(t, s, creating, allowPrivate)
	}
	return scorebridge.FieldErrorf("channel", "channel must be email or webhook")
}

func validateEmail(t *scorebridge.NotificationTarget, s *scorebridge.NotificationSecrets, creating, allowPrivate bool) error {
	t.SMTPHost = strings.TrimSpace(t.SMTPHost)
	t.WebhookHost, t.WebhookFormat = "", ""
	if s.WebhookURL != "" || s.WebhookSecret != "" {
		return scorebridge.FieldErrorf("webhookUrl", "an email target has no webhook")
	}
	if t.SMTPHost == "" || strings.ContainsAny(t.SMTPHost, "/:@ ") && net.ParseIP(t.SMTPHost) == nil {
		return scorebridge.FieldErrorf("smtpHost", "smtpHost must be a host name or address, without scheme or port")
	}
	// The same guard as every outbound call: no metadata or link-local
	// address, no private one unless private instances are allowed. The
	// dialer checks the resolved address again when sending.
	if _, err := servicenow.ParseInstanceURL("https://"+hostForURL(t.SMTPHost), allowPrivate); err != nil {
		return scorebridge.FieldErrorf("smtpHost", "smtpHost: %s", strings.ReplaceAll(err.Error(), "ServiceNow instance", "server"))
	}
	if t.SMTPPort == 0 {
		t.SMTPPort = 587
	}
	if t.SMTPPort < 1 || t.SMTPPort > 65535 {
		return scorebridge.FieldErrorf("smtpPort", "smtpPort must be between 1 and 65535")
	}
	t.SMTPUsername = strings.TrimSpace(t.SMTPUsername)
	if creating && t.SMTPUsername != "" && s.SMTPPassword == "" {
		return scorebridge.FieldErrorf("smtpPassword", "smtpPassword is required with smtpUsername")
	}
	from, err := mail.ParseAddress(strings.TrimSpace(t.From))
	if err != nil {
		return scorebridge.FieldErrorf("from", "from must be an email address")
	}
	t.From = from.Address
	var to []string
	for _, a := range t.To {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		addr, err := mail.ParseAddress(a)
		if err != nil {
			return scorebridge.FieldErrorf("to", "%q is not an email address", a)
		}
		to = append(to, addr.Address)
	}
	if len(to) == 0 || len(to) > MaxRecipients {
		return scorebridge.FieldErrorf("to", "to must list between 1 and %d addresses", MaxRecipients)
	}
	t.To = to
	return nil
}

func hostForURL(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

func validateWebhook(t *scorebridge.NotificationTarget, s *scorebridge.NotificationSecrets, creating, allowPrivate bool) error {
	t.SMTPHost, t.SMTPPort, t.SMTPUsername, t.From, t.To = "", 0, "", "", nil
	if s.SMTPPassword != "" {
		return scorebridge.FieldErrorf("smtpPassword", "a webhook target has no SMTP password")
	}
	switch t.WebhookFormat {
	case "":
		t.WebhookFormat = scorebridge.WebhookJSON
	case scorebridge.WebhookJSON, scorebridge.WebhookSlack, scorebridge.WebhookTeams:
	default:
		return scorebridge.FieldErrorf("webhookFormat", "webhookFormat must be json, slack or teams")
	}
	if s.WebhookURL == "" {
		if creating {
			return scorebridge.FieldErrorf("webhookUrl", "webhookUrl is required")
		}
		return nil
	}
	host, err := checkWebhookURL(s.WebhookURL, allowPrivate)
	if err != nil {
		return err
	}
	t.WebhookHost = host
	return nil
}

// checkWebhookURL puts a webhook URL through the ServiceNow client's
// outbound guard (https, a public address; loopback over http only when
// private instances are allowed) and returns its host, the part shown.
func checkWebhookURL(raw string, allowPrivate bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Scheme == "" {
		return "", scorebridge.FieldErrorf("webhookUrl", "webhookUrl must be a full https URL")
	}
	if u.User != nil || u.Fragment != "" {
		return "", scorebridge.FieldErrorf("webhookUrl", "webhookUrl must not have a user name or fragment")
	}
	if _, err := servicenow.ParseInstanceURL(u.Scheme+"://"+u.Host, allowPrivate); err != nil {
		return "", scorebridge.FieldErrorf("webhookUrl", "webhookUrl: %s", strings.ReplaceAll(err.Error(), "ServiceNow instance", "server"))
	}
	return u.Host, nil
}
