//go:build unix

package snowsim_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and system: a
// benchmark's CPU per operation holds still when other processes share
// the machine, where its wall-clock time does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
