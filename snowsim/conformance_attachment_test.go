package snowsim_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Conformance of the Attachment API. c_AttachmentAPI.md is ServiceNow's
// "Attachment API" reference (api-reference/rest-apis, the ServiceNowDocs
// markdown mirror); the metadata a real instance answers is captured in
// swimlane/techpubs-knowledgecenter docs/Connectors/ServiceNow/Actions/add_attachment_to_table.md.

const (
	citeAttachPost    = "c_AttachmentAPI.md POST /now/attachment/file: 201, Location, result with file_name, size_bytes, content_type, table_name, table_sys_id, download_link"
	citeAttachCapture = "real instance's answer in swimlane add_attachment_to_table.md: chunk_size_bytes 700000, compressed true, hash = SHA-256, size_compressed, Location = download_link"
	citeAttachRoles   = "c_AttachmentAPI.md Attachment API role requirements: roles to read and write records on the target table"
	citeAttachSize    = "c_AttachmentAPI.md: the API respects com.glide.attachment.max_size, 1024MB by default (the answer's wording is the simulator's)"
)

// attachReq sends one Attachment API request as user and returns the
// status, headers and body.
func (b *bundle) attachReq(t *testing.T, user, method, path string, body []byte, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	res, raw := b.send(t, http.DefaultClient, user, method, path, body, header)
	return res.StatusCode, res.Header, raw
}

func attachResult(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var v struct{ Result map[string]any }
	if err := json.Unmarshal(raw, &v); err != nil || v.Result == nil {
		t.Fatalf("no result object in %s", raw)
	}
	return v.Result
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestConformanceAttachment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := mkIncident(t, b.in, map[string]string{"short_description": "Phishing mail"})
	file := []byte("From: mallory@example.com\r\nSubject: reset your password\r\n\r\nclick here")

	code, h, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=mail.eml",
		file, map[string]string{"Content-Type": "message/rfc822", "Accept": "application/json"})
	if code != 201 {
		t.Fatalf("[%s] %d %s", citeAttachPost, code, raw)
	}
	meta := attachResult(t, raw)
	id, _ := meta["sys_id"].(string)
	if !sysIDRe.MatchString(id) {
		t.Fatalf("sys_id %q", id)
	}
	for k, v := range map[string]string{
		"file_name": "mail.eml", "content_type": "message/rfc822", "table_name": "incident", "table_sys_id": inc,
		"size_bytes": "69", "hash": sha(file), "compressed": "true", "chunk_size_bytes": "700000",
		"sys_created_by": "admin", "sys_created_on": "2026-11-25 12:00:00", "sys_mod_count": "0",
		"download_link": b.srv.URL + "/api/now/attachment/" + id + "/file", "image_height": "", "average_image_color": "",
	} {
		if meta[k] != v {
			t.Errorf("[%s; %s] %s = %#v, want %q", citeAttachPost, citeAttachCapture, k, meta[k], v)
		}
	}
	if len(file) != 69 {
		t.Fatalf("test file is %d bytes", len(file))
	}
	if sc, _ := meta["size_compressed"].(string); sc == "" || sc == "0" {
		t.Errorf("[%s] size_compressed %q", citeAttachCapture, sc)
	}
	if _, ok := meta["sys_class_name"]; ok {
		t.Errorf("[%s] sys_class_name is not among the answered fields", citeAttachCapture)
	}
	if h.Get("Location") != meta["download_link"] {
		t.Errorf("[%s] Location %q", citeAttachCapture, h.Get("Location"))
	}

	t.Run("metadata of one", func(t *testing.T) {
		code, _, raw := b.attachReq(t, "admin", "GET", "/api/now/attachment/"+id, nil, nil)
		if code != 200 || attachResult(t, raw)["hash"] != sha(file) {
			t.Fatalf("[c_AttachmentAPI.md GET /now/attachment/{sys_id}] %d %s", code, raw)
		}
	})
	t.Run("the file", func(t *testing.T) {
		code, h, raw := b.attachReq(t, "admin", "GET", "/api/now/attachment/"+id+"/file", nil, map[string]string{"Accept": "*/*"})
		if code != 200 || !bytes.Equal(raw, file) || h.Get("Content-Type") != "message/rfc822" {
			t.Fatalf("[c_AttachmentAPI.md GET /now/attachment/{sys_id}/file: the binary] %d %q %q", code, h.Get("Content-Type"), raw)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(h.Get("X-Attachment-Metadata")), &m); err != nil || m["file_name"] != "mail.eml" {
			t.Fatalf("[c_AttachmentAPI.md: X-Attachment-Metadata, metadata about the returned file] %q", h.Get("X-Attachment-Metadata"))
		}
	})
	t.Run("the file in another type than accepted", func(t *testing.T) {
		code, _, _ := b.attachReq(t, "admin", "GET", "/api/now/attachment/"+id+"/file", nil, map[string]string{"Accept": "image/*"})
		if code != 406 {
			t.Fatalf("[c_AttachmentAPI.md GET .../file Accept: image/* accepts images only; r_RESTAPIHTTPResponseCodes.md 406] %d", code)
		}
	})
	t.Run("query", func(t *testing.T) {
		mkIncident(t, b.in, map[string]string{"short_description": "other"})
		code, _, raw := b.attachReq(t, "admin", "GET", "/api/now/attachment?sysparm_query=table_sys_id="+inc+"&sysparm_limit=5", nil, nil)
		var v struct{ Result []map[string]any }
		if err := json.Unmarshal(raw, &v); code != 200 || err != nil || len(v.Result) != 1 || v.Result[0]["sys_id"] != id {
			t.Fatalf("[c_AttachmentAPI.md GET /now/attachment sysparm_query over sys_attachment] %d %s", code, raw)
		}
		_, _, raw = b.attachReq(t, "admin", "GET", "/api/now/attachment?sysparm_query=table_sys_id="+inc+"&sysparm_offset=1", nil, nil)
		jsonEq(t, raw, `{"result":[]}`)
	})
	t.Run("rename", func(t *testing.T) {
		code, _, raw := b.attachReq(t, "admin", "PATCH", "/api/now/attachment/"+id, []byte(`{"file_name":"phishing.eml"}`),
			map[string]string{"Content-Type": "application/json"})
		if code != 204 || len(raw) != 0 {
			t.Fatalf("[c_AttachmentAPI.md PATCH /now/attachment/{sys_id}: 204, renamed] %d %s", code, raw)
		}
		_, _, raw = b.attachReq(t, "admin", "GET", "/api/now/attachment/"+id, nil, nil)
		if m := attachResult(t, raw); m["file_name"] != "phishing.eml" || m["sys_mod_count"] != "1" {
			t.Fatalf("[c_AttachmentAPI.md PATCH renames] %v", m)
		}
		if code, _, _ := b.attachReq(t, "admin", "PATCH", "/api/now/attachment/"+id, []byte(`{}`), map[string]string{"Content-Type": "application/json"}); code != 400 {
			t.Fatalf("[c_AttachmentAPI.md PATCH: file_name required, 400] %d", code)
		}
	})
	t.Run("missing parameters", func(t *testing.T) {
		code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&file_name=x.txt", []byte("x"), map[string]string{"Content-Type": "text/plain"})
		if code != 400 || !strings.Contains(string(raw), "table_sys_id") {
			t.Fatalf("[r_AttachmentAPI-POST.md: 400 when mandatory parameters are missing] %d %s", code, raw)
		}
	})
	t.Run("no such record", func(t *testing.T) {
		code, _, _ := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&table_sys_id=0123456789abcdef0123456789abcdef&file_name=x.txt", []byte("x"), map[string]string{"Content-Type": "text/plain"})
		if code != 404 {
			t.Fatalf("[r_AttachmentAPI-POST.md: 404 when the record of table_name and table_sys_id does not exist] %d", code)
		}
		code, _, _ = b.attachReq(t, "admin", "GET", "/api/now/attachment/0123456789abcdef0123456789abcdef", nil, nil)
		if code != 404 {
			t.Fatalf("[c_AttachmentAPI.md GET /now/attachment/{sys_id}: 404] %d", code)
		}
	})
	t.Run("gzipped upload is stored as sent", func(t *testing.T) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(file)
		_ = zw.Close()
		code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=gz.eml",
			gz.Bytes(), map[string]string{"Content-Type": "message/rfc822", "Content-Encoding": "gzip"})
		if code != 201 || attachResult(t, raw)["hash"] != sha(file) {
			t.Fatalf("[%s] %d %s", citeGzip, code, raw)
		}
	})
}

// multipartBody builds an upload with the form fields first and the file
// last, as the documentation's cURL example sends it.
func multipartBody(t *testing.T, fields [][2]string, fileName, ctype string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if fileName != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="uploadFile"; filename="`+fileName+`"`)
		h.Set("Content-Type", ctype)
		p, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Write(data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func TestConformanceAttachmentUpload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := mkIncident(t, b.in, map[string]string{"short_description": "Suspicious login"})
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	body, ctype := multipartBody(t, [][2]string{{"table_name", "incident"}, {"table_sys_id", inc}}, "screen.png", "image/png", png)
	code, h, raw := b.attachReq(t, snowsim.UserITIL, "POST", "/api/now/attachment/upload", body, map[string]string{"Content-Type": ctype})
	if code != 201 {
		t.Fatalf("[c_AttachmentAPI.md POST /now/attachment/upload: 201] %d %s", code, raw)
	}
	meta := attachResult(t, raw)
	if meta["file_name"] != "screen.png" || meta["content_type"] != "image/png" || meta["size_bytes"] != "108" ||
		meta["sys_created_by"] != snowsim.UserITIL || h.Get("Location") != meta["download_link"] {
		t.Fatalf("[c_AttachmentAPI.md POST multipart: Content-Type of the file from its part; Location] %v", meta)
	}
	code, _, got := b.attachReq(t, snowsim.UserITIL, "GET", "/api/now/attachment/"+meta["sys_id"].(string)+"/file", nil, map[string]string{"Accept": "image/*"})
	if code != 200 || !bytes.Equal(got, png) {
		t.Fatalf("[c_AttachmentAPI.md GET .../file] %d", code)
	}

	body, ctype = multipartBody(t, [][2]string{{"table_name", "incident"}}, "screen.png", "image/png", png)
	if code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/upload", body, map[string]string{"Content-Type": ctype}); code != 400 {
		t.Fatalf("[c_AttachmentAPI.md POST multipart mandatory values table_name, table_sys_id] %d %s", code, raw)
	}
	body, ctype = multipartBody(t, [][2]string{{"table_name", "incident"}, {"table_sys_id", inc}}, "", "", nil)
	if code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/upload", body, map[string]string{"Content-Type": ctype}); code != 400 {
		t.Fatalf("[c_AttachmentAPI.md POST multipart: the file content in the final part] %d %s", code, raw)
	}
}

func TestConformanceAttachmentACL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := mkIncident(t, b.in, map[string]string{"short_description": "Shared"})
	props, err := b.in.Query("sys_properties", "name=glide.sys.default.tz")
	if err != nil || len(props) != 1 {
		t.Fatal(err, len(props))
	}
	prop := props[0]["sys_id"]
	post := func(user, table, id string) (int, map[string]any) {
		code, _, raw := b.attachReq(t, user, "POST", "/api/now/attachment/file?table_name="+table+"&table_sys_id="+id+"&file_name=a.txt",
			[]byte("hello"), map[string]string{"Content-Type": "text/plain"})
		var v struct{ Result map[string]any }
		_ = json.Unmarshal(raw, &v)
		return code, v.Result
	}
	if code, _ := post(snowsim.UserNoRoles, "incident", inc); code != 404 {
		t.Fatalf("[%s] a user who cannot read incidents: %d", citeAttachRoles, code)
	}
	if code, _ := post(snowsim.UserITIL, "sys_properties", prop); code != 404 {
		t.Fatalf("[%s] itil on sys_properties: %d", citeAttachRoles, code)
	}
	code, adminMeta := post("admin", "sys_properties", prop)
	if code != 201 {
		t.Fatalf("admin on sys_properties: %d", code)
	}
	code, itilMeta := post(snowsim.UserITIL, "incident", inc)
	if code != 201 {
		t.Fatalf("[%s] itil on incident: %d", citeAttachRoles, code)
	}
	hidden := adminMeta["sys_id"].(string)
	if code, _, _ := b.attachReq(t, snowsim.UserITIL, "GET", "/api/now/attachment/"+hidden, nil, nil); code != 404 {
		t.Fatalf("[c_AttachmentAPI.md GET: 404 when the current user cannot access it] %d", code)
	}
	if code, _, _ := b.attachReq(t, snowsim.UserITIL, "GET", "/api/now/attachment/"+hidden+"/file", nil, nil); code == 200 {
		t.Fatalf("[%s] itil downloads an attachment of sys_properties", citeAttachRoles)
	}
	_, _, raw := b.attachReq(t, snowsim.UserITIL, "GET", "/api/now/attachment", nil, nil)
	if strings.Contains(string(raw), hidden) || !strings.Contains(string(raw), itilMeta["sys_id"].(string)) {
		t.Fatalf("[%s] list as itil: %s", citeAttachRoles, raw)
	}
	if code, _, _ := b.attachReq(t, snowsim.UserITIL, "DELETE", "/api/now/attachment/"+hidden, nil, nil); code != 404 {
		t.Fatalf("[%s] itil deletes an attachment it cannot see: %d", citeAttachRoles, code)
	}
	if _, _, raw := b.attachReq(t, "admin", "GET", "/api/now/attachment", nil, nil); !strings.Contains(string(raw), hidden) {
		t.Fatalf("admin list lacks the sys_properties attachment: %s", raw)
	}
	// itil reads sys_choice but may not write it: it sees the attachment
	// and may neither rename nor delete it.
	choices, _ := b.in.Query("sys_choice", "name=incident^element=state")
	code, choiceMeta := post("admin", "sys_choice", choices[0]["sys_id"])
	if code != 201 {
		t.Fatalf("admin on sys_choice: %d", code)
	}
	onChoice := "/api/now/attachment/" + choiceMeta["sys_id"].(string)
	if code, _, _ := b.attachReq(t, snowsim.UserITIL, "GET", onChoice, nil, nil); code != 200 {
		t.Fatalf("[%s] itil reads an attachment of a record it can read: %d", citeAttachRoles, code)
	}
	for _, c := range []struct{ method, body, want string }{
		{"DELETE", "", "ACL Exception Delete Failed"}, {"PATCH", `{"file_name":"x"}`, "ACL Exception Update Failed"},
	} {
		code, _, raw := b.attachReq(t, snowsim.UserITIL, c.method, onChoice, []byte(c.body), map[string]string{"Content-Type": "application/json"})
		if code != 403 || !strings.Contains(string(raw), c.want) {
			t.Fatalf("[%s; SERVICENOW.md 403 Operation Failed] itil %s: %d %s", citeAttachRoles, c.method, code, raw)
		}
	}
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/now/attachment", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("[c_AttachmentAPI.md: 401 when credentials are not passed] %d", res.StatusCode)
	}
}

func TestConformanceAttachmentSizeLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := mkIncident(t, b.in, map[string]string{"short_description": "Big logs"})
	props, _ := b.in.Query("sys_properties", "name=com.glide.attachment.max_size")
	if len(props) != 1 || props[0]["value"] != "1024" {
		t.Fatalf("[%s] property %v", citeAttachSize, props)
	}
	if _, err := b.in.Update("sys_properties", props[0]["sys_id"], map[string]string{"value": "2"}); err != nil {
		t.Fatal(err)
	}
	post := func(n int) (int, []byte, []byte) {
		data := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		data[0] = byte(n)
		code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=log.txt",
			data, map[string]string{"Content-Type": "text/plain"})
		return code, raw, data
	}
	// Over the REST payload limit's 10 MB would not matter; 2 MB does.
	code, raw, _ := post(2<<20 + 1)
	if code != 400 || !strings.Contains(string(raw), "max_size") {
		t.Fatalf("[%s] over the limit: %d %s", citeAttachSize, code, raw)
	}
	// Exactly at the limit, in several chunks of 700,000 bytes.
	code, raw, data := post(2 << 20)
	if code != 201 {
		t.Fatalf("[%s] at the limit: %d %s", citeAttachSize, code, raw)
	}
	id := attachResult(t, raw)["sys_id"].(string)
	code, _, got := b.attachReq(t, "admin", "GET", "/api/now/attachment/"+id+"/file", nil, nil)
	if code != 200 || !bytes.Equal(got, data) {
		t.Fatalf("[%s] a file of several chunks comes back whole: %d, %d bytes", citeAttachCapture, code, len(got))
	}
	docs, _ := b.in.Query("sys_attachment_doc", "sys_attachment="+id)
	if len(docs) != 3 {
		t.Fatalf("[r_AdministeringAttachments.md: the file data in sys_attachment_doc] %d chunks", len(docs))
	}
}

func TestConformanceAttachmentDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := mkIncident(t, b.in, map[string]string{"short_description": "Cleanup"})
	upload := func() string {
		code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=a.txt",
			[]byte("bye"), map[string]string{"Content-Type": "text/plain"})
		if code != 201 {
			t.Fatalf("upload: %d %s", code, raw)
		}
		return attachResult(t, raw)["sys_id"].(string)
	}
	id := upload()
	code, _, raw := b.attachReq(t, "admin", "DELETE", "/api/now/attachment/"+id, nil, nil)
	if code != 204 || len(raw) != 0 {
		t.Fatalf("[c_AttachmentAPI.md DELETE /now/attachment/{sys_id}: 204] %d %s", code, raw)
	}
	for _, p := range []string{"/api/now/attachment/" + id, "/api/now/attachment/" + id + "/file"} {
		if code, _, _ := b.attachReq(t, "admin", "GET", p, nil, nil); code != 404 {
			t.Fatalf("[c_AttachmentAPI.md DELETE then GET: 404] %s %d", p, code)
		}
	}
	if code, _, _ := b.attachReq(t, "admin", "DELETE", "/api/now/attachment/"+id, nil, nil); code != 404 {
		t.Fatalf("[c_AttachmentAPI.md DELETE: 404 Not found] %d", code)
	}
	if docs, _ := b.in.Query("sys_attachment_doc", "sys_attachment="+id); len(docs) != 0 {
		t.Fatalf("chunks left behind: %d", len(docs))
	}
	// Deleting the record deletes its attachments.
	id = upload()
	if err := b.in.Delete("incident", inc); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.in.Get("sys_attachment", id); ok {
		t.Fatal("[r_AdministeringAttachments.md: an attachment belongs to its record] the attachment outlived its incident")
	}
}

// TestAttachmentStateFile checks attachments are kept by --state like
// every other record.
func TestAttachmentStateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	clock := func() time.Time { return fixedNow }
	in, err := snowsim.New(snowsim.Options{StateFile: path, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{in: in, srv: newServer(t, in)}
	inc := mkIncident(t, in, map[string]string{"short_description": "Evidence"})
	file := bytes.Repeat([]byte("evidence "), 100000) // two chunks
	code, _, raw := b.attachReq(t, "admin", "POST", "/api/now/attachment/file?table_name=incident&table_sys_id="+inc+"&file_name=e.txt",
		file, map[string]string{"Content-Type": "text/plain"})
	if code != 201 {
		t.Fatalf("upload: %d %s", code, raw)
	}
	id := attachResult(t, raw)["sys_id"].(string)
	b.srv.Close()
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := snowsim.New(snowsim.Options{StateFile: path, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Close() })
	b = &bundle{in: again, srv: newServer(t, again)}
	code, _, got := b.attachReq(t, "admin", "GET", "/api/now/attachment/"+id+"/file", nil, nil)
	if code != 200 || !bytes.Equal(got, file) {
		t.Fatalf("after restart: %d, %d bytes of %d", code, len(got), len(file))
	}
}

func newServer(t *testing.T, in *snowsim.Instance) *httptest.Server {
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	return srv
}
