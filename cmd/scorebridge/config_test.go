package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/secret"
)

var update = flag.Bool("update", false, "rewrite the generated configuration reference")

// The configuration reference in the docs is the table's: a row added or
// changed without regenerating fails here.
func TestConfigurationDoc(t *testing.T) {
	t.Parallel()
	readmePath, docPath := filepath.Join("..", "..", "README.md"), filepath.Join("..", "..", "docs", "configuration.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	wantReadme, err := withReadmeOptions(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	wantDoc := configurationDoc()
	if *update {
		if err := os.WriteFile(readmePath, []byte(wantReadme), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docPath, []byte(wantDoc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(readme) != wantReadme {
		t.Errorf("README.md's configuration table is stale: run go test ./cmd/scorebridge -run TestConfigurationDoc -update")
	}
	if doc, err := os.ReadFile(docPath); err != nil || string(doc) != wantDoc {
		t.Errorf("docs/configuration.md is stale (%v): run go test ./cmd/scorebridge -run TestConfigurationDoc -update", err)
	}
}

// Every row is complete and no command reads two rows with one flag or
// variable.
func TestOptionsTableIsConsistent(t *testing.T) {
	t.Parallel()
	commands := map[string]bool{}
	for _, o := range options {
		if o.Env == "" || !strings.HasPrefix(o.Env, "SCOREBRIDGE_") || o.Usage == "" || len(o.Commands) == 0 || o.Kind.parse == nil {
			t.Errorf("option %s is incomplete", o.name())
		}
		if o.Secret && o.Flag != "" {
			t.Errorf("secret %s has a flag: secrets are read from the environment only", o.Env)
		}
		if o.Secret && o.Default != "" {
			t.Errorf("secret %s has a default in the code", o.Env)
		}
		for _, c := range o.Commands {
			commands[c] = true
		}
		// The default itself must be accepted.
		if _, err := parseConfig(o.Commands[0], flag.NewFlagSet("t", flag.ContinueOnError), nil, func(string) string { return "" }); err != nil && !o.Secret {
			t.Errorf("the defaults of %s do not parse: %v", o.Commands[0], err)
		}
	}
	for c := range commands {
		flags, envs := map[string]bool{}, map[string]bool{}
		for _, o := range optionsFor(c) {
			if o.Flag != "" && flags[o.Flag] || envs[o.Env] {
				t.Errorf("command %s reads --%s / %s twice", c, o.Flag, o.Env)
			}
			flags[o.Flag], envs[o.Env] = true, true
		}
	}
}

// runRefused runs a command that should be refused at start. The context
// is already cancelled and the database and address are a test's own, so
// a value wrongly accepted ends the command at once rather than serving.
func runRefused(t *testing.T, args []string, env map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	base := map[string]string{
		"SCOREBRIDGE_DB": filepath.Join(t.TempDir(), "c.db"), "SCOREBRIDGE_DEMO_DB": filepath.Join(t.TempDir(), "d.db"),
		"SCOREBRIDGE_ADDR": "127.0.0.1:0", "SCOREBRIDGE_DEMO_SNOW_ADDR": "127.0.0.1:0", "SCOREBRIDGE_SNOWSIM_ADDR": "127.0.0.1:0",
	}
	var stderr bytes.Buffer
	code := run(ctx, args, func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return base[k]
	}, io.Discard, &stderr)
	return code, stderr.String()
}

// badValues is a value each kind refuses, with words of what it accepts.
var badValues = map[string]struct{ value, accepts string }{
	kindBool.Name:     {"yes", "true or false"},
	kindInt.Name:      {"12abc", "whole number"},
	kindFloat.Name:    {"fast", "number"},
	kindDuration.Name: {"10", "duration"},
	kindHostPort.Name: {"nonsense", "host:port"},
	kindURL.Name:      {"ftp://x", "http"},
}

// A bad value of every option of every type is refused at start, from the
// flag and from the variable, with the option's name and what it accepts;
// nothing falls back to the default.
func TestBadValueOfEachOptionRefusedAtStart(t *testing.T) {
	t.Parallel()
	seenKinds := map[string]bool{}
	for _, o := range options {
		bad, ok := badValues[o.Kind.Name]
		if !ok && strings.HasPrefix(o.Kind.Name, "one of") {
			bad = struct{ value, accepts string }{"bogus", o.Kind.Accepts}
			ok = true
		}
		if !ok {
			continue
		}
		seenKinds[o.Kind.Name] = true
		cmd := o.Commands[0]
		code, stderr := runRefused(t, []string{cmd}, map[string]string{o.Env: bad.value})
		if code != 2 || !strings.Contains(stderr, o.Env) || !strings.Contains(stderr, bad.accepts) {
			t.Errorf("%s=%s for %s: exit %d, %q; want 2 naming %s and saying it accepts %q", o.Env, bad.value, cmd, code, stderr, o.Env, bad.accepts)
		}
		if o.Flag == "" {
			continue
		}
		code, stderr = runRefused(t, []string{cmd, "--" + o.Flag + "=" + bad.value}, nil)
		if code != 2 || !strings.Contains(stderr, "--"+o.Flag) || !strings.Contains(stderr, bad.accepts) {
			t.Errorf("--%s=%s for %s: exit %d, %q", o.Flag, bad.value, cmd, code, stderr)
		}
	}
	for name := range badValues {
		if !seenKinds[name] {
			t.Errorf("no option of type %s was tried", name)
		}
	}
}

// The bug that started this: "yes" turned Secure cookies off in silence.
func TestSecureCookiesYesIsRefused(t *testing.T) {
	t.Parallel()
	code, stderr := runRefused(t, []string{"serve"}, map[string]string{"SCOREBRIDGE_SECURE_COOKIES": "yes"})
	if code != 2 || !strings.Contains(stderr, `SCOREBRIDGE_SECURE_COOKIES`) || !strings.Contains(stderr, `"yes"`) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// Checks on the value say what is accepted too.
func TestRangeChecksRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"snowsim", "--error-rate", "2"}, nil, "fraction from 0 to 1"},
		{[]string{"snowsim"}, map[string]string{"SCOREBRIDGE_SNOWSIM_LATENCY": "-1s"}, "must not be negative"},
		{[]string{"serve", "--session-idle", "0s"}, nil, "more than zero"},
		{[]string{"serve", "--db", ""}, nil, "must not be empty"},
		{[]string{"serve", "--session-idle", "13h"}, nil, "must not be longer than --session-max"},
	} {
		code, stderr := runRefused(t, tt.args, tt.env)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v %v: exit %d, %q; want 2 with %q", tt.args, tt.env, code, stderr, tt.want)
		}
	}
}

// Every secret is read the same way: from its variable, or from the file
// its _FILE twin names (a file others can read, an empty file, both set at
// once are refused), and its value is never printed, even when refused.
func TestSecretsFromVariableOrFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, o := range options {
		if !o.Secret {
			continue
		}
		cmd := o.Commands[0]
		value := "file:/not/a/path-Secret.Value1"
		if o.Kind.Name == kindKey.Name {
			value = secret.NewKey()
		}
		path := filepath.Join(dir, o.Env)
		if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, env := range []map[string]string{{o.Env: value}, {o.Env + "_FILE": path}} {
			c, err := parseConfig(cmd, flag.NewFlagSet(cmd, flag.ContinueOnError), nil, func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("%s from %v: %v", o.Env, env, err)
			}
			// A value starting with "file:" is the value, not a path.
			if got := c.String(o); got != value {
				t.Errorf("%s from %v = %q, want %q", o.Env, env, got, value)
			}
		}
		if c, _ := parseConfig(cmd, flag.NewFlagSet(cmd, flag.ContinueOnError), nil, func(k string) string {
			return map[string]string{o.Env + "_FILE": path}[k]
		}); c == nil || c.File(o) != path {
			t.Errorf("%s: the file it came from is not kept", o.Env)
		}

		open := filepath.Join(dir, o.Env+".open")
		empty := filepath.Join(dir, o.Env+".empty")
		if err := os.WriteFile(open, []byte(value), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{o.Env + "_FILE": open}, "readable by its owner only"},
			{map[string]string{o.Env + "_FILE": empty}, "is empty"},
			{map[string]string{o.Env + "_FILE": filepath.Join(dir, "missing")}, "no such file"},
			{map[string]string{o.Env: value, o.Env + "_FILE": path}, "both set"},
		} {
			_, err := parseConfig(cmd, flag.NewFlagSet(cmd, flag.ContinueOnError), nil, func(k string) string { return tt.env[k] })
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), o.Env) {
				t.Errorf("%s with %v: %v; want an error naming it with %q", o.Env, tt.env, err, tt.want)
			} else if strings.Contains(err.Error(), value) {
				t.Errorf("%s: the error shows the secret: %v", o.Env, err)
			}
		}
		// A secret is never a flag.
		flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(o.Env, "SCOREBRIDGE_")), "_", "-")
		if code, _ := runRefused(t, []string{cmd, "--" + flagName + "=x"}, nil); code != 2 {
			t.Errorf("%s accepted as a flag: exit %d", o.Env, code)
		}
	}
}

// A refused secret's value is not in the message.
func TestRefusedSecretIsNotPrinted(t *testing.T) {
	t.Parallel()
	for k, v := range map[string]string{"SCOREBRIDGE_SECRET_KEY": "not-base64-Sup3rSecret!", "SCOREBRIDGE_ADMIN_PASSWORD": "Sup3rSecret"} {
		code, stderr := runRefused(t, []string{"serve"}, map[string]string{k: v})
		if code == 0 || !strings.Contains(stderr, k) || strings.Contains(stderr, "Sup3rSecret") {
			t.Errorf("%s refused: exit %d, %q", k, code, stderr)
		}
	}
}

// A command lists its options in -h, each with its variable.
func TestHelpListsTheTable(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve", "-h"}, func(string) string { return "" }, io.Discard, &stderr); code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	for _, o := range optionsFor("serve") {
		if o.Flag != "" && (!strings.Contains(stderr.String(), "-"+o.Flag) || !strings.Contains(stderr.String(), o.Env)) {
			t.Errorf("serve -h lacks --%s (%s)", o.Flag, o.Env)
		}
	}
	if !slices.ContainsFunc(optionsFor("token"), func(o *option) bool { return o == optDB }) {
		t.Error("token does not read --db")
	}
}
