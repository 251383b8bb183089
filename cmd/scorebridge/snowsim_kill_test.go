package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// simProcess is `scorebridge snowsim` running as a process of its own, so
// that it can be killed without a chance to save.
type simProcess struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startSimProcess runs bin snowsim --state state and waits for its URL.
func startSimProcess(t *testing.T, bin, state string) *simProcess {
	t.Helper()
	cmd := exec.Command(bin, "snowsim", "--state", state, "--addr", "127.0.0.1:0")
	cmd.Env = os.Environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &simProcess{cmd: cmd, exited: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "snowsim: ServiceNow simulator running at "); ok {
				urls <- u
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	select {
	case p.url = <-urls:
	case <-p.exited:
		t.Fatalf("snowsim exited before serving: %s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("snowsim did not print its URL: %s", stderr.String())
	}
	return p
}

// kill ends the process with SIGKILL and waits until it is gone.
func (p *simProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func simRequest(method, url, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var v struct{ Result map[string]any }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil && res.StatusCode != http.StatusNoContent {
		return res.StatusCode, nil, err
	}
	return res.StatusCode, v.Result, nil
}

// TestSnowsimStateSurvivesSIGKILL runs the real binary with --state,
// creates incidents from several clients at once, kills it with SIGKILL
// right after a 201 while other creates are in flight, and starts it
// again: every incident that was answered 201 is there with its number,
// and no number is handed out twice.
func TestSnowsimStateSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildScorebridge(t)
	state := filepath.Join(dir, "snowsim-state.json")
	sim := startSimProcess(t, bin, state)

	type created struct{ id, number string }
	answered := make(chan created, 1000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, rec, err := simRequest("POST", sim.url+"/api/now/table/incident", fmt.Sprintf(`{"short_description":"client %d create %d"}`, w, i))
				if err != nil || code != http.StatusCreated {
					return // the simulator is gone
				}
				answered <- created{rec["sys_id"].(string), rec["number"].(string)}
			}
		}()
	}
	var got []created
	for len(got) < 40 {
		got = append(got, <-answered)
	}
	sim.kill() // right after the 40th 201, with the other clients' creates in flight
	close(stop)
	wg.Wait()
	close(answered)
	for c := range answered {
		got = append(got, c)
	}

	sim = startSimProcess(t, bin, state)
	numbers := map[string]bool{}
	highest := ""
	for _, c := range got {
		if numbers[c.number] {
			t.Fatalf("number %s answered twice", c.number)
		}
		numbers[c.number] = true
		highest = max(highest, c.number)
		code, rec, err := simRequest("GET", sim.url+"/api/now/table/incident/"+c.id, "")
		if err != nil || code != http.StatusOK || rec["number"] != c.number {
			t.Fatalf("incident %s (%s), answered 201 before the kill: %d %v %v", c.id, c.number, code, rec, err)
		}
	}
	code, rec, err := simRequest("POST", sim.url+"/api/now/table/incident", `{"short_description":"after the restart"}`)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create after restart: %d %v", code, err)
	}
	if n := rec["number"].(string); n <= highest {
		t.Fatalf("number %s after the restart is not above %s, the highest answered before the kill", n, highest)
	}
	t.Logf("%d incidents answered before SIGKILL, all back after the restart", len(got))
}
