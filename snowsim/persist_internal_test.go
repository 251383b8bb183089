package snowsim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStateFileSavedAfterWrites checks that writes reach the state file in
// the background, without Close: a crash loses at most one interval.
func TestStateFileSavedAfterWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	in, err := New(Options{StateFile: path, SaveInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	saves := make(chan uint64, 1)
	in.persist.mu.Lock()
	in.persist.saves = saves
	in.persist.mu.Unlock()

	if _, err := in.Insert("incident", map[string]string{"short_description": "saved in the background"}); err != nil {
		t.Fatal(err)
	}
	in.mu.RLock()
	want := in.version
	in.mu.RUnlock()
	for v := range saves {
		if v >= want {
			break
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "saved in the background") {
		t.Fatal("the background save does not hold the insert")
	}
	if leftovers, _ := filepath.Glob(path + ".tmp*"); len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}
