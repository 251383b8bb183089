package tracking

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// DriftNotifier tells the notification targets of each drift found: a
// ticket.drift event whose cause is the drift's reason, so the drifts of
// one period make one message, with links to the Drift page and the
// action.
type DriftNotifier struct {
	Notifier scorebridge.Notifier
	// CenterURL makes the links absolute; "" leaves them relative.
	CenterURL string
	Logger    *slog.Logger
}

// DriftDetected records the notification; a failure is logged.
func (n DriftNotifier) DriftDetected(ctx context.Context, e scorebridge.DriftEvent) {
	base := strings.TrimRight(n.CenterURL, "/")
	links := []scorebridge.NotificationLink{{Title: "Drift", URL: base + "/drift"}}
	for _, id := range e.ActionIDs {
		links = append(links, scorebridge.NotificationLink{Title: "Improvement action " + id, URL: base + "/actions/" + url.PathEscape(id)})
	}
	details := "The security control it covers is still not achieved."
	switch e.Policy {
	case scorebridge.DriftReopen:
		details += " The drift policy reopens the ticket."
	case scorebridge.DriftNew:
		details += " The drift policy opens a new linked ticket."
	default:
		details += " Reopen it or open a new linked ticket from the Drift page."
	}
	err := n.Notifier.Notify(ctx, scorebridge.Notification{
		Kind: scorebridge.NotifyTicketDrift, Cause: "drift:" + string(e.Reason),
		Subject: "Drift: " + e.Reason.Label() + " (ticket " + e.TicketID + ")",
		Details: details, Links: links, At: e.At,
	})
	if err != nil && n.Logger != nil {
		n.Logger.Error("drift notification not recorded", "ticket", e.TicketID, "error", err)
	}
}

var _ scorebridge.DriftListener = DriftNotifier{}
