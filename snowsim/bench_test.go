package snowsim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Benchmarks: a selective list query over 100,000 incidents and inserts
// through the Table API, both over real HTTP on loopback.
//
//	go test -run='^$' -bench=. -benchtime=3s ./snowsim/
//
// BenchmarkListQuery100k also reports cpu-ns/op, the process's CPU time
// per query (client and server both run in it), which a busy machine
// disturbs far less than ns/op.

var (
	bigOnce sync.Once
	bigInst *snowsim.Instance
	bigErr  error
)

// bigInstance holds 100,000 incidents: one in 50 mentions VPN, one in 4 has
// priority 1 (impact 1 x urgency 1), one in 10 is closed.
func bigInstance(b *testing.B) *snowsim.Instance {
	bigOnce.Do(func() {
		bigInst, bigErr = snowsim.New(snowsim.Options{})
		if bigErr != nil {
			return
		}
		for i := 0; i < 100000; i++ {
			sd := fmt.Sprintf("Disk space low on server %d", i)
			if i%50 == 3 {
				sd = fmt.Sprintf("VPN tunnel flapping at site %d", i)
			}
			level := "3"
			if i%4 == 1 {
				level = "1"
			}
			v := map[string]string{"short_description": sd, "impact": level, "urgency": level}
			if i%10 == 7 {
				v["state"] = "7"
			}
			if _, bigErr = bigInst.Insert("incident", v); bigErr != nil {
				return
			}
		}
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigInst
}

func BenchmarkListQuery100k(b *testing.B) {
	in := bigInstance(b)
	srv := httptest.NewServer(in)
	defer srv.Close()
	q := url.Values{
		"sysparm_query": {"active=true^priority=1^short_descriptionLIKEvpn"},
		"sysparm_limit": {"100"},
	}
	target := srv.URL + "/api/now/table/incident?" + q.Encode()
	rows := ""
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", target, nil)
		req.SetBasicAuth("admin", "admin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		rows = res.Header.Get("X-Total-Count")
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	b.Logf("matching rows: %s of 100000", rows)
}

// BenchmarkListQuery100kInProcess is the same query through Instance.Query,
// without HTTP and rendering, to separate evaluation from transport.
func BenchmarkListQuery100kInProcess(b *testing.B) {
	in := bigInstance(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := in.Query("incident", "active=true^priority=1^short_descriptionLIKEvpn")
		if err != nil || len(rows) != 1000 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

func BenchmarkInsertTableAPI(b *testing.B) {
	in, err := snowsim.New(snowsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	srv := httptest.NewServer(in)
	defer srv.Close()
	body := `{"short_description":"Enable MFA for all admins","impact":"2","urgency":"2","correlation_id":"bench"}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", srv.URL+"/api/now/table/incident", strings.NewReader(body))
		req.SetBasicAuth("admin", "admin")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}
