package main

import (
	"fmt"
	"slices"
	"strings"
)

// The configuration reference is generated from the options table, so the
// docs cannot drift from the code: docs/configuration.md holds every
// option, README.md the center's, between the markers below. A test fails
// when either is stale; -update rewrites them.
const (
	docBegin = "<!-- options table: generated from cmd/scorebridge/options.go; go test ./cmd/scorebridge -run TestConfigurationDoc -update -->"
	docEnd   = "<!-- end of options table -->"
)

// configReference renders the options as a Markdown table.
func configReference(opts []*option, withCommands bool) string {
	var b strings.Builder
	if withCommands {
		b.WriteString("| flag | environment | accepts | default | commands | meaning |\n|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| flag | environment | accepts | default | meaning |\n|---|---|---|---|---|\n")
	}
	for _, o := range opts {
		flagCell := ""
		if o.Flag != "" {
			flagCell = "`--" + o.Flag + "`"
		}
		env := "`" + o.Env + "`"
		if o.Secret {
			env += " or `" + o.Env + "_FILE`"
		}
		def := o.DefaultDoc
		if def == "" && o.Default != "" {
			def = "`" + o.Default + "`"
		}
		usage := o.Usage
		if o.Secret {
			usage += " (a secret: from the variable or the file its `_FILE` twin names, never a flag, never printed)"
		}
		cells := []string{flagCell, env, o.Kind.Accepts, def}
		if withCommands {
			cells = append(cells, strings.Join(o.Commands, ", "))
		}
		cells = append(cells, usage)
		for i := range cells {
			cells[i] = strings.ReplaceAll(cells[i], "|", `\|`)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	return b.String()
}

// readmeOptions are the options the README shows: the running center's.
func readmeOptions() []*option {
	var out []*option
	for _, o := range options {
		if slices.Contains(o.Commands, "serve") || o == optDemoDB || o == optDemoSnowAddr {
			out = append(out, o)
		}
	}
	return out
}

// configurationDoc is docs/configuration.md.
func configurationDoc() string {
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("Every option of every command, generated from the options table in\n")
	b.WriteString("`cmd/scorebridge/options.go`. Each option is a flag, an environment\n")
	b.WriteString("variable, or both; a flag wins over the variable, the variable over the\n")
	b.WriteString("default. A value an option does not accept stops the command at start\n")
	b.WriteString("(exit code 2) with the option's name and what it accepts: nothing falls\n")
	b.WriteString("back to a default. Booleans are `true` or `false` (also `1` or `0`);\n")
	b.WriteString("durations are written like `90s`, `15m` or `2h`.\n\n")
	b.WriteString("Secrets are read only from their variable or from the file named by its\n")
	b.WriteString("`_FILE` twin (one of the two, not both). The file's content without its\n")
	b.WriteString("trailing line break is the secret; it must be readable by its owner only\n")
	b.WriteString("(`chmod 600`). Secrets are never flags and never printed, not even in an\n")
	b.WriteString("error.\n\n")
	b.WriteString(docBegin + "\n")
	b.WriteString(configReference(options, true))
	b.WriteString(docEnd + "\n")
	return b.String()
}

// withReadmeOptions returns readme with its generated table replaced.
func withReadmeOptions(readme string) (string, error) {
	i := strings.Index(readme, docBegin)
	j := strings.Index(readme, docEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md has no generated options table between %q and %q", docBegin, docEnd)
	}
	return readme[:i+len(docBegin)] + "\n" + configReference(readmeOptions(), false) + readme[j:], nil
}
