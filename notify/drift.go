package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// DriftListener tells a Notifier of each drift the tracking finds
// (tracking.Service.AddDriftListener). Drifts of one reason share a cause,
// so a sync that finds twenty closed-but-not-fixed tickets is one message
// with its count, not twenty.
type DriftListener struct {
	Notifier scorebridge.Notifier
	// CenterURL is the center's address, for the link to the ticket.
	CenterURL string
	Logger    *slog.Logger
}

var _ scorebridge.DriftListener = (*DriftListener)(nil)

// DriftDetected records the drift; recording is one small transaction,
// so it does not hold the sync up.
func (l *DriftListener) DriftDetected(ctx context.Context, e scorebridge.DriftEvent) {
	subject := "A ticket was closed while its control is still not achieved"
	if e.Reason == scorebridge.DriftRegressed {
		subject = "A control regressed after its ticket was closed"
	}
	details := fmt.Sprintf("Ticket %s (%s), action %s: %s.", e.TicketID, e.StateName, strings.Join(e.ActionIDs, ", "), e.Reason.Label())
	if e.StateName == "" {
		details = fmt.Sprintf("Ticket %s, action %s: %s.", e.TicketID, strings.Join(e.ActionIDs, ", "), e.Reason.Label())
	}
	if e.Policy != "" && e.Policy != scorebridge.DriftNone {
		details += fmt.Sprintf(" The drift policy (%s) acts on it.", e.Policy)
	}
	n := scorebridge.Notification{Kind: scorebridge.NotifyTicketDrift, Cause: "drift:" + string(e.Reason), Subject: subject, Details: details, At: e.At}
	if base := strings.TrimRight(l.CenterURL, "/"); base != "" {
		n.Links = []scorebridge.NotificationLink{{Title: "Drift", URL: base + "/drift"}, {Title: "The ticket", URL: base + "/tickets/" + url.PathEscape(e.TicketID)}}
	}
	if err := l.Notifier.Notify(ctx, n); err != nil && l.Logger != nil {
		l.Logger.Error("drift not notified", "ticket", e.TicketID, "error", err)
	}
}
