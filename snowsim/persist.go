package snowsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The state file (--state FILE): every record of every table in insertion
// order plus the number counters, as JSON. Secrets are already digests in
// the records, so the file holds none in clear. Writes go to a temporary
// file in the same directory and are renamed over the old one, so a crash
// leaves either the old or the new state, never half of one.

type stateFile struct {
	Format int `json:"format"`
	// Version is the instance version saved; journal entries above it
	// come after this state (persist_journal.go).
	Version  uint64              `json:"version,omitempty"`
	Counters map[string]int      `json:"counters"`
	Tables   map[string][]Record `json:"tables"`
}

const stateFormat = 1

// load reads the state file into an empty instance. It reports false when
// the file does not exist yet.
func (in *Instance) load(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("snowsim: read state file: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return false, fmt.Errorf("snowsim: state file %s is not valid JSON: %w", path, err)
	}
	if st.Format != stateFormat {
		return false, fmt.Errorf("snowsim: state file %s has format %d, want %d", path, st.Format, stateFormat)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for name, rows := range st.Tables {
		if _, ok := in.tables[name]; !ok {
			continue // a table this version no longer models
		}
		for _, rec := range rows {
			id := rec["sys_id"]
			if !isSysID(id) || in.byID[id] != nil {
				return false, fmt.Errorf("snowsim: state file %s: table %s has a record with a bad or duplicate sys_id %q", path, name, id)
			}
			rec["sys_class_name"] = name
			in.byID[id] = rec
			in.data[name].add(rec)
		}
	}
	for k, v := range st.Counters {
		in.counters[k] = v
	}
	in.version = st.Version
	return true, nil
}

// snapshot serialises the state under the read lock.
// With a journal, it starts the journal file that the writes after this
// snapshot go to, and returns its sequence number (0 without a journal).
func (in *Instance) snapshot() ([]byte, uint64, int, error) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	st := stateFile{Format: stateFormat, Version: in.version, Counters: in.counters, Tables: map[string][]Record{}}
	for name, d := range in.data {
		st.Tables[name] = d.rows
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, 0, 0, err
	}
	seq := 0
	if in.wal != nil {
		if seq, err = in.wal.next(); err != nil {
			return nil, 0, 0, err
		}
	}
	return b, in.version, seq, nil
}

// Save writes the state file now. It is a no-op without Options.StateFile.
func (in *Instance) Save() error {
	if in.opts.StateFile == "" {
		return nil
	}
	_, err := in.saveTo(in.opts.StateFile)
	return err
}

func (in *Instance) saveTo(path string) (uint64, error) {
	b, version, seq, err := in.snapshot()
	if err != nil {
		return 0, fmt.Errorf("snowsim: encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("snowsim: write state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("snowsim: write state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("snowsim: write state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("snowsim: write state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("snowsim: replace state file: %w", err)
	}
	if in.wal != nil {
		_ = syncDir(filepath.Dir(path))
		in.wal.removeBefore(seq)
	}
	return version, nil
}

// persister rewrites the state file in the background when it changed.
type persister struct {
	in    *Instance
	quit  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	saved uint64
	// saves, when set (tests), receives each background save's version.
	saves chan uint64
}

func startPersister(in *Instance) *persister {
	p := &persister{in: in, quit: make(chan struct{}), done: make(chan struct{})}
	in.mu.RLock()
	p.saved = in.version
	in.mu.RUnlock()
	go p.run()
	return p
}

func (p *persister) run() {
	defer close(p.done)
	tick := time.NewTicker(p.in.opts.SaveInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-tick.C:
			_ = p.saveIfChanged() // retried on the next tick; Close reports errors
		}
	}
}

func (p *persister) saveIfChanged() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.in.mu.RLock()
	v := p.in.version
	p.in.mu.RUnlock()
	if v == p.saved {
		return nil
	}
	saved, err := p.in.saveTo(p.in.opts.StateFile)
	if err != nil {
		return err
	}
	p.saved = saved
	if p.saves != nil {
		select {
		case p.saves <- saved:
		default:
		}
	}
	return nil
}

// stop ends the background loop and writes the final state.
func (p *persister) stop() error {
	close(p.quit)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.in.saveTo(p.in.opts.StateFile)
	return err
}
