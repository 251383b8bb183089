package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// option is one row of the options table (options.go): everything about a
// setting in one place, from which the flags, the environment, the
// validation and the configuration reference in the docs are all derived.
type option struct {
	// Flag is the flag name without dashes; "" for a secret, which is
	// read from the environment only (a flag shows in the process list).
	Flag string
	// Env is the environment variable. A secret is also read from the
	// file named by Env+"_FILE".
	Env string
	// Kind says how the text is read and what it accepts.
	Kind kind
	// Default is the value's text when neither the flag nor the
	// environment gives one, read like any other value.
	Default string
	// DefaultDoc replaces Default in the docs when the default is worked
	// out at start (say, from the listen address).
	DefaultDoc string
	// Secret values come from Env or the file Env_FILE names, never a
	// flag, and are never printed, not even in an error.
	Secret bool
	// Check is an extra rule on the parsed value; its error says what is
	// accepted.
	Check func(v any) error
	// Commands are the commands that read the option.
	Commands []string
	// Usage says what the option does, for -h and the docs.
	Usage string
}

// name is how messages call the option: its flag, or its variable.
func (o *option) name() string {
	if o.Flag != "" {
		return "--" + o.Flag
	}
	return o.Env
}

// kind is a type of option value.
type kind struct {
	// Name is the type's name in the docs.
	Name string
	// Accepts says what text is valid, for errors and the docs.
	Accepts string
	parse   func(string) (any, error)
	// zero is the value of an option left empty.
	zero   any
	isBool bool
}

var (
	kindString = kind{Name: "string", Accepts: "any text", zero: "", parse: func(s string) (any, error) { return s, nil }}
	kindBool   = kind{Name: "bool", Accepts: "true or false", zero: false, isBool: true, parse: func(s string) (any, error) {
		switch strings.ToLower(s) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, errors.New("not a boolean")
	}}
	kindInt = kind{Name: "integer", Accepts: "a whole number", zero: int64(0), parse: func(s string) (any, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("not a whole number")
		}
		return n, nil
	}}
	kindFloat = kind{Name: "number", Accepts: "a number such as 20 or 0.5", zero: 0.0, parse: func(s string) (any, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != f {
			return nil, errors.New("not a number")
		}
		return f, nil
	}}
	kindDuration = kind{Name: "duration", Accepts: "a duration such as 90s, 15m or 2h", zero: time.Duration(0), parse: func(s string) (any, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, errors.New("not a duration")
		}
		return d, nil
	}}
	kindHostPort = kind{Name: "address", Accepts: "host:port, such as 127.0.0.1:8080 or :8080", zero: "", parse: func(s string) (any, error) {
		if _, port, err := net.SplitHostPort(s); err != nil {
			return nil, errors.New("not host:port")
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return nil, errors.New("the port is not a number from 0 to 65535")
		}
		return s, nil
	}}
	kindURL = kind{Name: "URL", Accepts: "an absolute http:// or https:// URL without query or fragment", zero: "", parse: func(s string) (any, error) {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, errors.New("not an absolute http(s) URL")
		}
		return s, nil
	}}
	kindList = kind{Name: "list", Accepts: "comma-separated values", zero: []string(nil), parse: func(s string) (any, error) { return splitList(s), nil }}
)

// kindEnum accepts one of values.
func kindEnum(values ...string) kind {
	return kind{Name: "one of " + strings.Join(values, ", "), Accepts: strings.Join(values, " or "), zero: "", parse: func(s string) (any, error) {
		if !slices.Contains(values, s) {
			return nil, errors.New("not one of the choices")
		}
		return s, nil
	}}
}

// Checks shared by several rows.
var (
	notEmpty = func(v any) error {
		if v.(string) == "" {
			return errors.New("must not be empty")
		}
		return nil
	}
	notNegative = func(v any) error {
		switch v := v.(type) {
		case time.Duration:
			if v < 0 {
				return errors.New("must not be negative")
			}
		case int64:
			if v < 0 {
				return errors.New("must not be negative")
			}
		case float64:
			if v < 0 {
				return errors.New("must not be negative")
			}
		}
		return nil
	}
	positive = func(v any) error {
		if v.(time.Duration) <= 0 {
			return errors.New("must be more than zero")
		}
		return nil
	}
	fraction = func(v any) error {
		if f := v.(float64); f < 0 || f > 1 {
			return errors.New("must be a fraction from 0 to 1")
		}
		return nil
	}
)

// optionsFor lists the table's options command reads, in table order.
func optionsFor(command string) []*option {
	var out []*option
	for _, o := range options {
		if slices.Contains(o.Commands, command) {
			out = append(out, o)
		}
	}
	return out
}

// config is a command's options, each read once at start and checked.
type config struct {
	values map[*option]any
	// files holds the file each secret read from an Env_FILE came from.
	files map[*option]string
}

// rawFlag keeps a flag's text until every source has been read, so a bad
// flag and a bad variable get the same message.
type rawFlag struct {
	def, val string
	set      bool
	isBool   bool
}

func (f *rawFlag) String() string {
	if f == nil {
		return ""
	}
	if f.set {
		return f.val
	}
	return f.def
}
func (f *rawFlag) Set(s string) error { f.val, f.set = s, true; return nil }
func (f *rawFlag) IsBoolFlag() bool   { return f.isBool }

// parseConfig registers the flags of command's options on fs, parses args
// and reads every option: the flag, else the environment (for a secret, the
// variable or the file its _FILE twin names), else the default. A value
// that its option does not accept stops the command with the option's name
// and what it accepts; nothing falls back.
func parseConfig(command string, fs *flag.FlagSet, args []string, getenv func(string) string) (*config, error) {
	opts := optionsFor(command)
	flags := map[*option]*rawFlag{}
	for _, o := range opts {
		if o.Flag == "" {
			continue
		}
		f := &rawFlag{def: o.Default, isBool: o.Kind.isBool}
		flags[o] = f
		fs.Var(f, o.Flag, fmt.Sprintf("%s (env %s)", o.Usage, o.Env))
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil, err
	} else if err != nil {
		return nil, usageError{err.Error()}
	}
	c := &config{values: map[*option]any{}, files: map[*option]string{}}
	for _, o := range opts {
		text, from, err := c.source(o, flags[o], getenv)
		if err != nil {
			return nil, err
		}
		// An empty value is an option left unset: its zero value,
		// which the option's own check may refuse.
		v, err := o.Kind.zero, error(nil)
		if text != "" {
			v, err = o.Kind.parse(text)
		}
		if err == nil && o.Check != nil {
			err = o.Check(v)
		}
		if err != nil {
			return nil, optionError(o, text, from, err)
		}
		c.values[o] = v
	}
	return c, nil
}

// source returns an option's text and where it came from.
func (c *config) source(o *option, f *rawFlag, getenv func(string) string) (text, from string, err error) {
	if f != nil && f.set {
		return f.val, "--" + o.Flag, nil
	}
	v := getenv(o.Env)
	if o.Secret {
		path := getenv(o.Env + "_FILE")
		switch {
		case v != "" && path != "":
			return "", "", usagef("%s and %s_FILE are both set: set one of them", o.Env, o.Env)
		case path != "":
			s, err := readSecretFile(path)
			if err != nil {
				return "", "", usagef("%s_FILE: %v", o.Env, err)
			}
			c.files[o] = path
			return s, o.Env + "_FILE", nil
		}
	}
	if v != "" {
		return v, o.Env, nil
	}
	return o.Default, "the default", nil
}

// optionError says which option refused which value and what it accepts;
// a secret's value is never repeated.
func optionError(o *option, text, from string, err error) error {
	shown := strconv.Quote(text)
	if o.Secret {
		shown = "the value"
	}
	where := o.name()
	if from != where {
		where = fmt.Sprintf("%s (from %s)", where, from)
	}
	return usagef("%s: %s is refused: %s; it accepts %s", where, shown, err, o.Kind.Accepts)
}

// readSecretFile reads a secret from a file: the content without its
// trailing line break. Like the key file, a file others can read is
// refused, since its secret is no longer one.
func readSecretFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s has permissions %v; it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrPermission) {
		return "", fmt.Errorf("%s cannot be read: %w", path, err)
	} else if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func (c *config) value(o *option) any {
	v, ok := c.values[o]
	if !ok {
		panic(fmt.Sprintf("option %s is not read by this command: add the command to its row in options.go", o.name()))
	}
	return v
}

// String returns a string, address, URL or secret option.
func (c *config) String(o *option) string { return c.value(o).(string) }

// Bool returns a bool option.
func (c *config) Bool(o *option) bool { return c.value(o).(bool) }

// Int returns an integer option.
func (c *config) Int(o *option) int64 { return c.value(o).(int64) }

// Float returns a number option.
func (c *config) Float(o *option) float64 { return c.value(o).(float64) }

// Duration returns a duration option.
func (c *config) Duration(o *option) time.Duration { return c.value(o).(time.Duration) }

// List returns a list option.
func (c *config) List(o *option) []string { return c.value(o).([]string) }

// File returns the file a secret was read from ("" when it came from the
// variable or was not set).
func (c *config) File(o *option) string { return c.files[o] }

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// has reports whether the command reads o.
func (c *config) has(o *option) bool {
	_, ok := c.values[o]
	return ok
}
