package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/metrics"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// openPosture builds the posture service: file imports and the Graph
// connectors, whose secrets are sealed with the center's key and whose
// URLs pass the same outbound guard as ServiceNow's
// (--allow-private-instances admits a local Graph stand-in). Imports are
// counted and timed on reg.
func openPosture(cfg centerConfig, db *sqlstore.DB, logger *slog.Logger, reg *metrics.Registry, notifier scorebridge.Notifier) (*posture.Service, error) {
	box, err := cfg.Connections.loadKey(cfg.DB, logger)
	if err != nil {
		return nil, err
	}
	store := sqlstore.NewPostureStore(db, box)
	im := &posture.Importer{
		Store:        store,
		HTTPClient:   posture.NewHTTPClient(cfg.Connections.AllowPrivate),
		AllowPrivate: cfg.Connections.AllowPrivate,
		Logger:       logger,
		Metrics:      reg,
		Notifier:     notifier,
		CenterURL:    cfg.Connections.PublicURL,
	}
	return posture.NewService(im, store), nil
}

const importUsage = `Usage:
  scorebridge import [--db ...] FILE

Imports posture data from FILE: a Microsoft Graph Secure Score export (a
secureScoreControlProfiles page, a secureScores page, or one object with
both), CISA ScubaGear results (ScubaResults_*.json) or Prowler OCSF JSON.
The format is detected. A malformed or truncated file is refused with the
line that is wrong, and nothing of it is imported.
`

// runImport imports one file into the center's database.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := subcommandFlags("import", importUsage, stderr)
	opts, err := parseConfig("import", fs, args, getenv)
	if err != nil {
		return err
	}
	dsn := opts.String(optDB)
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, importUsage)
		return usagef("import takes one file")
	}
	name := fs.Arg(0)
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	// A file import seals nothing, so it needs no key.
	im := &posture.Importer{Store: sqlstore.NewPostureStore(db, nil)}
	ctx = scorebridge.NewContextWithUser(ctx, cliUser)
	imp, err := im.ImportFile(ctx, name, data, "cli")
	if err != nil {
		if scorebridge.ErrorCode(err) != scorebridge.EINTERNAL {
			return fmt.Errorf("%s: %s", name, scorebridge.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "Imported %s (%s) into source %s: %d added, %d updated, %d unchanged, %d retired, %d regressed, %d kept unmapped.\n",
		name, imp.Format, imp.SourceID, imp.Added, imp.Updated, imp.Unchanged, imp.Retired, imp.Regressed, imp.Unmapped)
	if imp.Reported != nil {
		fmt.Fprintf(stdout, "Score: %g / %g in the center; the source reports %g / %g for %s.\n",
			imp.Score.CurrentScore, imp.Score.MaxScore, imp.Reported.CurrentScore, imp.Reported.MaxScore, imp.Reported.Day)
	} else {
		fmt.Fprintf(stdout, "Score: %g / %g.\n", imp.Score.CurrentScore, imp.Score.MaxScore)
	}
	if imp.PassRate != nil {
		fmt.Fprintf(stdout, "Pass rate: %g%% (%d pass, %d fail, %d warning, %d not assessed).\n",
			imp.PassRate.Percent, imp.PassRate.Pass, imp.PassRate.Fail, imp.PassRate.Warning, imp.PassRate.Other)
	}
	for _, w := range imp.Warnings {
		fmt.Fprintln(stdout, "Warning:", w)
	}
	return nil
}
