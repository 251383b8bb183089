package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// QueuePosture is the River queue posture imports run on.
const QueuePosture = "posture"

// PostureImporter reads every posture connector (posture.Importer).
type PostureImporter interface {
	ImportConnectors(ctx context.Context) error
}

// ImportPostureArgs is the periodic job that reads the Graph connectors.
// River runs periodic jobs on the elected leader only, so with several
// replicas each run happens once across the fleet; it is unique while it
// waits, so a slow run never piles up behind itself.
type ImportPostureArgs struct{}

// Kind names the job in River's table.
func (ImportPostureArgs) Kind() string { return "posture_import" }

// InsertOpts puts the job on its queue, once while it waits or runs.
func (ImportPostureArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePosture, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinishedStates}}
}

type postureWorker struct {
	river.WorkerDefaults[ImportPostureArgs]
	importer PostureImporter
	timeout  time.Duration
}

func (w *postureWorker) Timeout(*river.Job[ImportPostureArgs]) time.Duration { return w.timeout }

func (w *postureWorker) Work(ctx context.Context, _ *river.Job[ImportPostureArgs]) error {
	// Each connector's failure is kept on its source and audited; the job
	// itself fails (and River retries) only if every read could not start.
	return w.importer.ImportConnectors(ctx)
}
