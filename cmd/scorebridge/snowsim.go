package main

import (
	"context"
	"io"
)

func runSnowsim(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return usagef("snowsim is not available yet")
}
