//go:build !race

package main

// chaosBuildFlags: see chaos_race_test.go.
var chaosBuildFlags []string
