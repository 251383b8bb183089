package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func postureFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../posture/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPostureAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{posture: true})

	// A wrong file says what it is not.
	e := b.do(t, "POST", "/api/v1/imports?name=notes.json", "application/json", `{"notes": []}`).wantStatus(t, http.StatusBadRequest).apiError(t)
	if e.Code != scorebridge.EINVALID || !strings.Contains(e.Message, "not CISA ScubaGear results") {
		t.Fatalf("error = %+v", e)
	}
	var imp scorebridge.Import
	b.do(t, "POST", "/api/v1/imports?name=graph_export.json", "application/octet-stream", postureFixture(t, "graph_export.json")).
		wantStatus(t, http.StatusCreated).decode(t, &imp)
	if imp.Added != 6 || imp.FileName != "graph_export.json" || imp.Reported == nil || imp.Score.CurrentScore != imp.Reported.CurrentScore {
		t.Fatalf("import = %+v", imp)
	}
	// The catalog stopped counting: the score is the tenant's.
	var score scorebridge.Score
	b.get(t, "/api/v1/score").wantStatus(t, http.StatusOK).decode(t, &score)
	if score.CurrentScore != 11 || score.MaxScore != 27 {
		t.Errorf("score after import = %+v", score)
	}
	var sources listResponse[sourceItem]
	b.get(t, "/api/v1/sources").wantStatus(t, http.StatusOK).decode(t, &sources)
	if len(sources.Items) != 1 || sources.Items[0].ID != imp.SourceID || sources.Items[0].LastImport.ID != imp.ID {
		t.Fatalf("sources = %+v", sources)
	}
	var imports listResponse[*scorebridge.Import]
	b.get(t, "/api/v1/sources/"+imp.SourceID+"/imports").wantStatus(t, http.StatusOK).decode(t, &imports)
	if len(imports.Items) != 1 {
		t.Errorf("imports = %+v", imports)
	}
	b.get(t, "/api/v1/imports/"+strconv.FormatInt(imp.ID, 10)+"/unmapped").wantStatus(t, http.StatusOK).wantContains(t, "CosmicRays")
	b.do(t, "POST", "/api/v1/imports", "application/octet-stream", postureFixture(t, "graph_export_newer.json")).wantStatus(t, http.StatusCreated)
	b.get(t, "/api/v1/regressions").wantStatus(t, http.StatusOK).wantContains(t, "mdm_enroll", "regressedAt")

	// A file source cannot be read on demand; an unknown one is 404.
	b.do(t, "POST", "/api/v1/sources/"+imp.SourceID+"/import", "", "").wantStatus(t, http.StatusBadRequest)
	b.do(t, "POST", "/api/v1/sources/nope/import", "", "").wantStatus(t, http.StatusNotFound)
	// A connector's URLs pass the outbound guard; its secret never comes back.
	e = b.sendJSON(t, "POST", "/api/v1/sources", `{"tenantId":"t1","clientId":"c","clientSecret":"s3cret","graphUrl":"http://169.254.169.254/v1.0"}`).
		wantStatus(t, http.StatusBadRequest).apiError(t)
	if e.Field != "graphUrl" {
		t.Errorf("error = %+v", e)
	}
}

func TestPosturePages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{posture: true})
	b.get(t, "/sources").wantStatus(t, http.StatusOK).wantContains(t, "Import a file", "They count toward the score until real posture data is imported")

	// The upload form without script: multipart, then the source's page.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "graph_export_newer.json")
	fw.Write([]byte(postureFixture(t, "graph_export.json")))
	mw.Close()
	resp := b.do(t, "POST", "/sources/upload", mw.FormDataContentType(), body.String()).wantStatus(t, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	page := b.get(t, loc).wantStatus(t, http.StatusOK)
	page.wantContains(t, "Reported by the source (2026-11-30)", "11 / 27", "CosmicRays", "<svg", "<th scope=\"row\">2026-11-29</th>")
	page.wantNotContains(t, "<script>alert(1)</script>")

	b.do(t, "POST", "/api/v1/imports", "application/octet-stream", postureFixture(t, "graph_export_newer.json")).wantStatus(t, http.StatusCreated)
	home := b.get(t, "/").wantStatus(t, http.StatusOK)
	home.wantContains(t, "Regressed controls", "Enroll devices in management", "User recommendations", "Secure Score history", "polyline class=\"line overall\"")

	// A truncated upload is refused with the reason on the page.
	body.Reset()
	mw = multipart.NewWriter(&body)
	fw, _ = mw.CreateFormFile("file", "cut.json")
	fw.Write([]byte(`{"value": [{"id": "A"`))
	mw.Close()
	b.do(t, "POST", "/sources/upload", mw.FormDataContentType(), body.String()).wantStatus(t, http.StatusBadRequest).wantContains(t, "cut.json", "truncated")

	b.do(t, "POST", "/sources/catalog/remove", "application/x-www-form-urlencoded", "").wantStatus(t, http.StatusSeeOther)
	b.get(t, "/sources").wantContains(t, "No sample actions are left")
}
