package snowsim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The write-ahead journal of --state. The state file is rewritten every
// SaveInterval; a kill between two saves would lose the records written
// meanwhile, and their numbers would be handed out again. So every write
// through insert, update and delete is also appended to a journal file
// (STATE.wal.N) and synced to disk before the write returns, hence before
// the API answers 201 or 200. Each entry carries the instance version after
// the write; the state file carries the version it saved, so loading
// replays exactly the entries that came after it. A save starts a new
// journal file and removes the older ones once the state file is in place.

// walEntry is one committed write.
type walEntry struct {
	Version  uint64         `json:"v"`
	Put      []Record       `json:"put,omitempty"`
	Del      []string       `json:"del,omitempty"`
	Counters map[string]int `json:"counters,omitempty"`
}

// journal is the open journal file; guarded by Instance.mu (written by
// writers under the write lock, rotated by snapshot under the read lock,
// which excludes writers).
type journal struct {
	mu   sync.Mutex
	base string // the state file path
	seq  int
	f    *os.File
}

func journalPath(base string, seq int) string { return base + ".wal." + strconv.Itoa(seq) }

// journalFiles lists the journal files of base in sequence order.
func journalFiles(base string) ([]int, error) {
	matches, err := filepath.Glob(base + ".wal.*")
	if err != nil {
		return nil, err
	}
	var seqs []int
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(m, base+".wal."))
		if err == nil && n >= 0 {
			seqs = append(seqs, n)
		}
	}
	sort.Ints(seqs)
	return seqs, nil
}

// openJournal starts a new journal file after the existing ones.
func openJournal(base string) (*journal, error) {
	seqs, err := journalFiles(base)
	if err != nil {
		return nil, err
	}
	j := &journal{base: base}
	if len(seqs) > 0 {
		j.seq = seqs[len(seqs)-1]
	}
	return j, j.rotate()
}

// next starts a new journal file for the writes after a snapshot and
// returns its sequence number: older files are covered by the snapshot.
func (j *journal) next() (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.rotate()
	return j.seq, err
}

// rotate closes the current file and opens the next one.
func (j *journal) rotate() error {
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
	j.seq++
	f, err := os.OpenFile(journalPath(j.base, j.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("snowsim: open state journal: %w", err)
	}
	j.f = f
	return syncDir(filepath.Dir(j.base))
}

// removeBefore deletes the journal files older than seq.
func (j *journal) removeBefore(seq int) {
	seqs, _ := journalFiles(j.base)
	for _, n := range seqs {
		if n < seq {
			_ = os.Remove(journalPath(j.base, n))
		}
	}
}

func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
}

// appendLocked writes one entry and syncs it to disk.
func (j *journal) appendLocked(e walEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("snowsim: state journal is closed")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("snowsim: write state journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("snowsim: sync state journal: %w", err)
	}
	return nil
}

// journalWriteLocked records the records named by events (puts and
// deletes) durably. Without a state file it does nothing.
func (in *Instance) journalWriteLocked(events []WriteEvent) error {
	if in.wal == nil {
		return nil
	}
	e := walEntry{Version: in.version, Counters: maps.Clone(in.counters)}
	for _, ev := range events {
		id := ev.Record["sys_id"]
		if ev.Operation == "delete" {
			e.Del = append(e.Del, id)
		} else if rec := in.byID[id]; rec != nil {
			e.Put = append(e.Put, rec)
		}
	}
	return in.wal.appendLocked(e)
}

// replayJournals applies the journal entries newer than the loaded state.
func (in *Instance) replayJournals(base string) error {
	seqs, err := journalFiles(base)
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, n := range seqs {
		f, err := os.Open(journalPath(base, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("snowsim: read state journal: %w", err)
		}
		// Lines have no length limit: an entry holding an attachment is
		// as long as the file.
		br := bufio.NewReader(f)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				break // the end, or a torn last line whose write never returned, so was never answered
			}
			var e walEntry
			if err := json.Unmarshal(line, &e); err != nil {
				break
			}
			if e.Version <= in.version {
				continue
			}
			in.applyEntryLocked(e)
		}
		f.Close()
	}
	return nil
}

func (in *Instance) applyEntryLocked(e walEntry) {
	for _, rec := range e.Put {
		id := rec["sys_id"]
		if cur := in.byID[id]; cur != nil {
			clear(cur)
			maps.Copy(cur, rec)
			continue
		}
		if _, ok := in.tables[rec["sys_class_name"]]; !ok || !isSysID(id) {
			continue
		}
		in.byID[id] = rec
		in.data[rec["sys_class_name"]].add(rec)
	}
	for _, id := range e.Del {
		if rec := in.byID[id]; rec != nil {
			in.deleteLocked(rec)
		}
	}
	for k, v := range e.Counters {
		// A number handed out is never handed out again.
		in.counters[k] = max(in.counters[k], v)
	}
	in.version = e.Version
	in.choiceVersion++
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs directories
	return nil
}
