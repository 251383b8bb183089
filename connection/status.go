package connection

import (
	"context"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// StatusProperty is the system property (sys_properties) where the center
// writes its view of the connection on the instance, so the instance's
// admin sees the same status as the center's admin.
const StatusProperty = "x_scorebridge.connection.status"

// statusText is the property's value: one line a person reads.
func statusText(c *scorebridge.Connection, now time.Time) string {
	s := fmt.Sprintf("%s (scorebridge connection %s, as %s) at %s", scorebridge.ConnectionStatusLabel(c.Status), c.ID, orUnknown(c.IntegrationUser), now.UTC().Format(time.RFC3339))
	if c.RefreshTokenExpiresAt != nil {
		s += "; refresh token expires " + c.RefreshTokenExpiresAt.UTC().Format(time.RFC3339)
	}
	if c.LastError != "" {
		s += "; last error: " + c.LastError
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown user"
	}
	return s
}

// publishStatus writes the status property through the connection, best
// effort: an instance whose ACLs keep sys_properties to admins refuses it,
// which the doctor reports, and the connection works regardless.
func (s *Service) publishStatus(ctx context.Context, c *scorebridge.Connection) {
	ci, err := s.ConnectedInstance(ctx, c.ID)
	if err != nil {
		return
	}
	if err := writeStatusProperty(ctx, servicenow.NewClient(ci.BaseURL, ci.HTTPClient), statusText(c, s.now())); err != nil {
		s.log.Info("status not written on the instance", "connection", c.ID, "property", StatusProperty, "reason", describe(err))
	}
}

// writeStatusProperty creates or updates the status property.
func writeStatusProperty(ctx context.Context, sn *servicenow.Client, value string) error {
	recs, _, err := sn.List(ctx, "sys_properties", servicenow.ListOptions{Query: "name=" + StatusProperty, Fields: []string{"sys_id"}, Limit: 1, NoCount: true})
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		_, err = sn.Update(ctx, "sys_properties", recs[0].SysID(), map[string]string{"value": value})
		return err
	}
	_, err = sn.Create(ctx, "sys_properties", map[string]string{
		"name": StatusProperty, "value": value, "type": "string",
		"description": "Written by scorebridge: the status of its connection to this instance, as the center sees it.",
	})
	return err
}
