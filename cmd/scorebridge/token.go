package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

const tokenUsage = `Usage:
  scorebridge token create --name NAME --role admin|operator|reader [--expires 30d] [--db ...]
  scorebridge token list [--db ...]
  scorebridge token revoke [--db ...] ID

create prints the token once: only its hash is kept. Send it to the API as
"Authorization: Bearer <token>".
`

// cliUser is who the audit log says acted when a command changes something.
var cliUser = &scorebridge.User{ID: "cli", Name: "cli"}

// runToken manages API tokens directly in the database.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return usagef("token needs a subcommand: create, list or revoke")
	}
	fs := subcommandFlags("token "+args[0], tokenUsage, stderr)
	var name, role, expires string
	if args[0] == "create" {
		fs.StringVar(&name, "name", "", "what the token is for, e.g. ci (required)")
		fs.StringVar(&role, "role", "", "admin, operator or reader (required)")
		fs.StringVar(&expires, "expires", "", "lifetime (30d, 12h) or last day (2027-01-31); default: no expiry")
	}
	opts, err := parseConfig("token", fs, args[1:], getenv)
	if err != nil {
		return err
	}
	dsn := opts.String(optDB)
	ctx = scorebridge.NewContextWithUser(ctx, cliUser)
	switch args[0] {
	case "create":
		if fs.NArg() > 0 {
			return usagef("token create takes no arguments, got %q", fs.Args())
		}
		if name == "" || !scorebridge.ValidRole(role) {
			return usagef("token create needs --name and --role admin, operator or reader")
		}
		exp, err := parseExpiry(expires, time.Now())
		if err != nil {
			return usagef("--expires: %v", err)
		}
		return withAuthStores(ctx, dsn, func(a *authServices) error {
			t := &scorebridge.APIToken{Name: name, Role: role, ExpiresAt: exp}
			secret, err := a.tokens.CreateAPIToken(ctx, t)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "Created API token %s (%s, role %s%s). It is shown only now: store it in your secret store.\n",
				t.ID, t.Name, t.Role, expiryText(t.ExpiresAt))
			return nil
		})
	case "list":
		if fs.NArg() > 0 {
			return usagef("token list takes no arguments, got %q", fs.Args())
		}
		return withAuthStores(ctx, dsn, func(a *authServices) error {
			tokens, err := a.tokens.FindAPITokens(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tTOKEN\tSTATUS\tCREATED\tLAST USED")
			now := time.Now()
			for _, t := range tokens {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Hint, tokenStatus(t, now),
					t.CreatedAt.Format("2006-01-02 15:04"), timeOrDash(t.LastUsedAt))
			}
			return tw.Flush()
		})
	case "revoke":
		if fs.NArg() != 1 {
			return usagef("token revoke takes one token id (see token list)")
		}
		return withAuthStores(ctx, dsn, func(a *authServices) error {
			id := fs.Arg(0)
			if err := a.tokens.RevokeAPIToken(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Revoked API token %s: it stops working at once.\n", id)
			return nil
		})
	}
	fmt.Fprint(stderr, tokenUsage)
	return usagef("unknown token subcommand %q", args[0])
}

// withAuthStores opens the database for one command.
func withAuthStores(ctx context.Context, dsn string, f func(*authServices) error) error {
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := f(newAuthServices(db)); err != nil {
		if msg := scorebridge.ErrorMessage(err); scorebridge.ErrorCode(err) != scorebridge.EINTERNAL {
			return fmt.Errorf("%s", msg)
		}
		return err
	}
	return nil
}

// parseExpiry reads --expires: a lifetime in days (30d) or any Go duration
// (12h), or a last valid day (2027-01-31, the token works through it).
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if day, err := time.Parse("2006-01-02", s); err == nil {
		end := day.AddDate(0, 0, 1)
		if !end.After(now) {
			return nil, fmt.Errorf("%s is in the past", s)
		}
		return &end, nil
	} else if d, err = time.ParseDuration(s); err != nil || d <= 0 {
		return nil, fmt.Errorf("%q is not a lifetime (30d, 12h) or a date (2027-01-31)", s)
	}
	t := now.Add(d)
	return &t, nil
}

func expiryText(t *time.Time) string {
	if t == nil {
		return ", no expiry"
	}
	return ", expires " + t.UTC().Format("2006-01-02 15:04 UTC")
}

func tokenStatus(t *scorebridge.APIToken, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	case t.ExpiresAt != nil:
		return "active until " + t.ExpiresAt.UTC().Format("2006-01-02")
	}
	return "active"
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
