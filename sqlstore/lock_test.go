package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestLockHelperProcess is not a test: run by TestLockExclusive as a
// separate process, it takes the lock, says so and waits to be killed.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv("SCOREBRIDGE_LOCK_HELPER_DB")
	if path == "" {
		return
	}
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := db.LockExclusive(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	select {}
}

// A second center on one SQLite file is refused, naming the process that
// holds it, while the first runs; once it closes, and once a holder is
// killed with SIGKILL, a new one starts.
func TestLockExclusive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "center.db")
	ctx := context.Background()
	first, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.LockExclusive(); err != nil {
		t.Fatal(err)
	}
	second, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = second.LockExclusive()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second lock while the first holds it: %v", err)
	}
	first.Close()
	if err := second.LockExclusive(); err != nil {
		t.Fatalf("lock after the first closed: %v", err)
	}
	second.Close()

	// Another process holds it, then is killed with SIGKILL.
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "SCOREBRIDGE_LOCK_HELPER_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "locked" {
		t.Fatalf("helper: %q", sc.Text())
	}
	third, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	err = third.LockExclusive()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Fatalf("lock while another process holds it: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := third.LockExclusive(); err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
}

// The database and its -wal and -shm are readable by their owner only.
func TestSQLiteFilesArePrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "center.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.Exec(`CREATE TABLE IF NOT EXISTS lock_probe (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has permissions %v, want 0600", filepath.Base(p), perm)
		}
	}
}
