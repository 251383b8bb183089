package snowsim_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// TestHostGuard: DNS rebinding (a foreign name resolving to the simulator)
// is answered 421; the address, localhost and configured names are served.
func TestHostGuard(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := snowsim.HostGuard([]string{"dev12345.service-now.example", "sim.corp.example:8443"}, ok)
	for host, want := range map[string]int{
		"127.0.0.1:8090": 200, "[::1]:8090": 200, "localhost:8090": 200, "LOCALHOST": 200,
		"dev12345.service-now.example": 200, "sim.corp.example:8443": 200, "sim.corp.example.": 200,
		"attacker.example:8090": 421, "attacker.example": 421, "dev12345.service-now.example.attacker.example": 421,
	} {
		r := httptest.NewRequest("GET", "/login.do", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}
