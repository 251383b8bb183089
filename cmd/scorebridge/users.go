package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/scorebridge/scorebridge"
)

const userUsage = `Usage:
  scorebridge user create --name NAME --role admin|operator|reader [--db ...]
  scorebridge user list [--db ...]
  scorebridge user reset-password [--db ...] NAME

create and reset-password print a one-time password, to be changed at the
first sign-in. People who sign in with the identity provider (OIDC) get
their account, and their role, from it.
`

// runUser manages local accounts directly in the database.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return usagef("user needs a subcommand: create, list or reset-password")
	}
	fs := subcommandFlags("user "+args[0], userUsage, stderr)
	var name, role string
	if args[0] == "create" {
		fs.StringVar(&name, "name", "", "sign-in name (required)")
		fs.StringVar(&role, "role", "", "admin, operator or reader (required)")
	}
	opts, err := parseConfig("user", fs, args[1:], getenv)
	if err != nil {
		return err
	}
	dsn := opts.String(optDB)
	ctx = scorebridge.NewContextWithUser(ctx, cliUser)
	switch args[0] {
	case "create":
		if fs.NArg() > 0 {
			return usagef("user create takes no arguments, got %q", fs.Args())
		}
		if name == "" || !scorebridge.ValidRole(role) {
			return usagef("user create needs --name and --role admin, operator or reader")
		}
		return withAuthStores(ctx, dsn, func(a *authServices) error {
			password := oneTimePassword()
			acc := &scorebridge.Account{Name: name, Role: role, MustChangePassword: true}
			// The store audits the creation in its own transaction.
			if err := a.accounts.CreateAccount(ctx, acc, password); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Created %s (%s). One-time password, shown only now: %s\n", acc.Name, acc.Role, password)
			return nil
		})
	case "list":
		if fs.NArg() > 0 {
			return usagef("user list takes no arguments, got %q", fs.Args())
		}
		return withAuthStores(ctx, dsn, func(a *authServices) error {
			accounts, err := a.accounts.FindAccounts(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSIGNS IN WITH\tLAST SIGN-IN")
			for _, acc := range accounts {
				provider := "password"
				if acc.Provider == scorebridge.ProviderOIDC {
					provider = "identity provider"
				} else if acc.MustChangePassword {
					provider = "password (to change)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", acc.Name, acc.Role, provider, timeOrDash(acc.LastSignInAt))
			}
			return tw.Flush()
		})
	case "reset-password":
		if fs.NArg() != 1 {
			return usagef("user reset-password takes one account name")
		}
		return withAuthStores(ctx, dsn, func(a *authServices) error {
			password := oneTimePassword()
			// The store audits the reset in its own transaction.
			acc, err := a.accounts.ResetPassword(ctx, fs.Arg(0), password)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Reset the password of %s; their sessions have ended. One-time password, shown only now: %s\n", acc.Name, password)
			return nil
		})
	}
	fmt.Fprint(stderr, userUsage)
	return usagef("unknown user subcommand %q", args[0])
}
