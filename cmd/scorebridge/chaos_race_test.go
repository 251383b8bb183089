//go:build race

package main

// chaosBuildFlags builds the center under test with the race detector when
// the tests run with it: the packages are then already compiled that way,
// so the build is mostly a link, and the center's own goroutines are
// checked too.
var chaosBuildFlags = []string{"-race"}
