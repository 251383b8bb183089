package main

import (
	"log/slog"

	"github.com/scorebridge/scorebridge/notify"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// openNotify builds the notification service: targets whose secrets are
// sealed with the center's key, mail through STARTTLS and webhooks through
// the same outbound guard as ServiceNow's (--allow-private-instances
// admits loopback and private receivers). Its queue is the job runner,
// set once that exists.
func openNotify(cfg centerConfig, db *sqlstore.DB, logger *slog.Logger) (*notify.Service, error) {
	box, err := cfg.Connections.loadKey(cfg.DB, logger)
	if err != nil {
		return nil, err
	}
	return &notify.Service{
		Store:        sqlstore.NewNotificationStore(db, box),
		Email:        &notify.SMTPSender{AllowPrivate: cfg.Connections.AllowPrivate},
		Webhook:      &notify.WebhookSender{HTTPClient: posture.NewHTTPClient(cfg.Connections.AllowPrivate)},
		AllowPrivate: cfg.Connections.AllowPrivate,
		Logger:       logger,
	}, nil
}
