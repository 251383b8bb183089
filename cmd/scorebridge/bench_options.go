package main

import "errors"

// atLeastOne refuses a count below one.
func atLeastOne(v any) error {
	if v.(int64) < 1 {
		return errors.New("must be 1 or more")
	}
	return nil
}

// The bench command's options.
var benchCommands = []string{"bench"}

var (
	optBenchPostgres = &option{Flag: "postgres", Env: "SCOREBRIDGE_BENCH_POSTGRES", Kind: kindString,
		Commands: benchCommands, Usage: "a postgres:// URL: also measure on PostgreSQL, in a schema of the run's own that is dropped at the end (SQLite is always measured)"}
	optBenchActions = &option{Flag: "actions", Env: "SCOREBRIDGE_BENCH_ACTIONS", Kind: kindList, Default: "5000,50000",
		Commands: benchCommands, Usage: "the center sizes to measure, in improvement actions, smallest first"}
	optBenchTickets = &option{Flag: "tickets", Env: "SCOREBRIDGE_BENCH_TICKETS", Kind: kindInt, Default: "100000", Check: atLeastOne,
		Commands: benchCommands, Usage: "tickets in the center, spread over the instances"}
	optBenchRequests = &option{Flag: "requests", Env: "SCOREBRIDGE_BENCH_REQUESTS", Kind: kindInt, Default: "2000", Check: atLeastOne,
		Commands: benchCommands, Usage: "requests per page measured (and as many for its static reference)"}
	optBenchShare = &option{Flag: "share", Env: "SCOREBRIDGE_BENCH_SHARE", Kind: kindInt, Default: "200", Check: atLeastOne,
		Commands: benchCommands, Usage: "tickets shared in each run of the ticket creation measure"}
	optBenchCPUProfile = &option{Flag: "cpuprofile", Env: "SCOREBRIDGE_BENCH_CPUPROFILE", Kind: kindString,
		Commands: benchCommands, Usage: "write a CPU profile of the page measures (go tool pprof) to this file"}
	optBenchQuick = &option{Flag: "quick", Env: "SCOREBRIDGE_BENCH_QUICK", Kind: kindBool, Default: "false",
		Commands: benchCommands, Usage: "a tiny center (200 and 400 actions, 1,000 tickets, 50 requests a page, 10 tickets shared) that checks the bench itself in seconds"}
)
