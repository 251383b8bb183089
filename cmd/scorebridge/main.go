// Command scorebridge runs the scorebridge security posture center and its
// companion tools.
//
//	scorebridge serve     start the center
//	scorebridge demo      start the center connected to an embedded ServiceNow simulator
//	scorebridge doctor    check the ServiceNow connection and say how to fix it
//	scorebridge snowsim   start the ServiceNow simulator
//	scorebridge token     create, list and revoke API tokens
//	scorebridge user      create, list and reset local accounts
//	scorebridge secrets   rotate the encryption key of stored secrets
//	scorebridge version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `scorebridge: a self-hosted security posture center

Usage:
  scorebridge <command> [flags]

Commands:
  serve     start the center (SQLite in the working directory by default)
  demo      start the center connected to an embedded ServiceNow simulator
  doctor    check the ServiceNow connection and say how to fix what fails
  snowsim   start the built-in ServiceNow simulator
  token     create, list and revoke API tokens (token create --name ci --role operator)
  user      create, list and reset local accounts (user create --name ana --role reader)
  secrets   rotate the encryption key of stored secrets (secrets rotate)
  backup    copy the SQLite database while the center runs (backup --to PATH)
  import    import posture data from a file (Graph export, ScubaGear, Prowler OCSF)
  bench     build a large center and measure its pages, sync, ticket creation and memory
  version   print the version

Run "scorebridge <command> -h" for the flags of a command.
`

// run dispatches a command and returns the process exit code: 0 on success,
// 2 for a usage error, 1 for anything else.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, getenv, stdout, stderr)
	case "demo":
		err = runDemo(ctx, rest, getenv, stdout, stderr)
	case "doctor":
		err = runDoctor(ctx, rest, getenv, stdout, stderr)
	case "token":
		err = runToken(ctx, rest, getenv, stdout, stderr)
	case "user":
		err = runUser(ctx, rest, getenv, stdout, stderr)
	case "backup":
		err = runBackup(ctx, rest, getenv, stdout, stderr)
	case "secrets":
		err = runSecrets(ctx, rest, getenv, stdout, stderr)
	case "import":
		err = runImport(ctx, rest, getenv, stdout, stderr)
	case "snowsim":
		err = runSnowsim(ctx, rest, getenv, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "scorebridge", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "scorebridge: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if errors.As(err, new(usageError)) {
		fmt.Fprintln(stderr, "scorebridge:", err)
		return 2
	} else if err != nil {
		fmt.Fprintln(stderr, "scorebridge:", err)
		return 1
	}
	return 0
}

// usageError marks a mistake in the command line, answered with exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }
