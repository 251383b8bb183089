package snowsim

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The Attachment API (c_AttachmentAPI.md):
//
//	POST   /api/now/[v1/]attachment/file?table_name&table_sys_id&file_name   the body is the file
//	POST   /api/now/[v1/]attachment/upload   multipart/form-data: table_name, table_sys_id, then the file part
//	GET    /api/now/[v1/]attachment?sysparm_query&sysparm_limit&sysparm_offset   metadata of many
//	GET    /api/now/[v1/]attachment/{sys_id}          metadata of one
//	GET    /api/now/[v1/]attachment/{sys_id}/file     the bytes, with X-Attachment-Metadata
//	PATCH  /api/now/[v1/]attachment/{sys_id}          {"file_name": ...} renames it, 204
//	DELETE /api/now/[v1/]attachment/{sys_id}          204
//
// Metadata lives in sys_attachment with the fields a real instance answers
// (captured in swimlane's ServiceNow connector docs, add_attachment_to_table.md:
// chunk_size_bytes "700000", compressed "true", hash the SHA-256 of the
// file, size_compressed its gzipped size); the bytes live in
// sys_attachment_doc in chunks, base64, like the platform's. Both are
// ordinary records, so the state file and its journal keep them.
//
// Who may: the caller must be able to read the target record and write its
// table (the Attachment API role requirements: "roles required to read and
// write records on the target table"); an attachment is visible to whoever
// can read its record. A record's attachments go when the record is deleted.
//
// The size limit is com.glide.attachment.max_size in MB (default 1024),
// not the REST payload limit: the API "respects any system limitations on
// uploaded files". What the platform answers over it, and to missing
// parameters, the documentation does not show: both are 400 here, the
// status it documents for a bad request, with wording of the simulator's.

// attachmentChunk is the chunk_size_bytes real instances report.
const attachmentChunk = 700000

// maxAttachmentDefault is com.glide.attachment.max_size's default, in MB.
const maxAttachmentDefault = 1024

func (in *Instance) attachmentRoutes() {
	for _, prefix := range []string{"/api/now/attachment", "/api/now/v1/attachment"} {
		in.mux.Handle(prefix, in.api(methods(map[string]apiHandler{http.MethodGet: in.attachmentList})))
		in.mux.Handle(prefix+"/file", in.api(methods(map[string]apiHandler{http.MethodPost: in.attachmentPostFile})))
		in.mux.Handle(prefix+"/upload", in.api(methods(map[string]apiHandler{http.MethodPost: in.attachmentUpload})))
		in.mux.Handle(prefix+"/{sys_id}", in.api(methods(map[string]apiHandler{
			http.MethodGet: in.attachmentGet, http.MethodPatch: in.attachmentRename, http.MethodDelete: in.attachmentDelete})))
		// The file itself answers in its own content type, so it has its
		// own Accept check.
		in.mux.Handle(prefix+"/{sys_id}/file", in.api(in.attachmentFile))
	}
}

// attachmentDownloadPath matches the one Attachment API path whose answer
// is the file itself, never JSON or XML.
var attachmentDownloadPath = regexp.MustCompile(`^/api/now/(v1/)?attachment/[0-9a-f]{32}/file$`)

func errAttachmentParams(detail string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: "Bad Request", Detail: detail}
}

func errAttachmentTooLarge(limit int64) *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: "Failed to create the attachment. File part might be too large.",
		Detail: "Attachments are limited to " + strconv.FormatInt(limit>>20, 10) + " MB (com.glide.attachment.max_size)"}
}

// maxAttachment is com.glide.attachment.max_size in bytes.
func (in *Instance) maxAttachment() int64 {
	mb, err := strconv.ParseInt(in.Property("com.glide.attachment.max_size"), 10, 64)
	if err != nil || mb < 1 {
		mb = maxAttachmentDefault
	}
	return mb << 20
}

// readAttachment reads a file of at most limit bytes.
func readAttachment(r io.Reader, declared, limit int64) ([]byte, *APIError) {
	if declared > limit {
		return nil, errAttachmentTooLarge(limit)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, errBadJSON("Unable to read the request body")
	}
	if int64(len(data)) > limit {
		return nil, errAttachmentTooLarge(limit)
	}
	return data, nil
}

func (in *Instance) attachmentPostFile(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	table, id, name := q.Get("table_name"), q.Get("table_sys_id"), q.Get("file_name")
	if table == "" || id == "" || name == "" {
		writeError(w, errAttachmentParams("table_name, table_sys_id and file_name are required query parameters"))
		return
	}
	data, aerr := readAttachment(r.Body, r.ContentLength, in.maxAttachment())
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	in.answerAttachment(w, r, s, table, id, name, r.Header.Get("Content-Type"), data)
}

// attachmentUpload reads a multipart upload: the form fields first, the
// file in the last part, as the documentation requires.
func (in *Instance) attachmentUpload(w http.ResponseWriter, r *http.Request, s *Session) {
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, errAttachmentParams("Send multipart/form-data with table_name, table_sys_id and the file as the last part"))
		return
	}
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			writeError(w, errAttachmentParams("The multipart body has no file part"))
			return
		} else if err != nil {
			writeError(w, errAttachmentParams("The multipart body cannot be read: "+err.Error()))
			return
		}
		if p.FileName() == "" {
			v, _ := io.ReadAll(io.LimitReader(p, 4096))
			fields[p.FormName()] = string(v)
			continue
		}
		id := fields["table_sys_id"]
		if id == "" {
			id = fields["record_sys_id"] // the field's name before Helsinki
		}
		if fields["table_name"] == "" || id == "" {
			writeError(w, errAttachmentParams("table_name and table_sys_id must come before the file part"))
			return
		}
		data, aerr := readAttachment(p, -1, in.maxAttachment())
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		in.answerAttachment(w, r, s, fields["table_name"], id, p.FileName(), p.Header.Get("Content-Type"), data)
		return
	}
}

// answerAttachment stores the file and answers 201 with its metadata, the
// Location being its download link as real instances give it.
func (in *Instance) answerAttachment(w http.ResponseWriter, r *http.Request, s *Session, table, id, name, ctype string, data []byte) {
	rec, err := in.createAttachment(s, table, id, name, ctype, data)
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	in.mu.RLock()
	meta := in.attachmentMetaLocked(r, rec)
	in.mu.RUnlock()
	w.Header().Set("Location", meta["download_link"].(string))
	writeJSON(w, http.StatusCreated, map[string]any{"result": meta})
}

// attachmentTargetLocked checks that s may attach a file to table's record
// id: the record exists and s can read it, and s may write the table.
func (in *Instance) attachmentTargetLocked(s *Session, table, id string) *APIError {
	t, ok := in.tables[table]
	if !ok || !allowed(s, table, opRead) {
		return errNoRecord()
	}
	if _, ok := in.getLocked(t, id); !ok {
		return errNoRecord()
	}
	if !allowed(s, table, opWrite) {
		return errACL("Insert")
	}
	return nil
}

func (in *Instance) createAttachment(s *Session, table, id, name, ctype string, data []byte) (Record, error) {
	if mt, _, err := mime.ParseMediaType(ctype); err == nil {
		ctype = mt
	} else {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return in.commit("insert", func() (Record, []WriteEvent, error) {
		if aerr := in.attachmentTargetLocked(s, table, id); aerr != nil {
			return nil, nil, aerr
		}
		rec, _, err := in.insertLocked(s, "sys_attachment", map[string]string{
			"file_name": name, "content_type": ctype, "table_name": table, "table_sys_id": id,
			"size_bytes": strconv.Itoa(len(data)), "size_compressed": strconv.Itoa(gz.Len()), "compressed": "true",
			"chunk_size_bytes": strconv.Itoa(attachmentChunk), "hash": hex.EncodeToString(sum[:]), "state": "available",
		}, writeOptions{script: true})
		if err != nil {
			return nil, nil, err
		}
		var docs []WriteEvent
		for pos := 0; pos < len(data); pos += attachmentChunk {
			chunk := data[pos:min(pos+attachmentChunk, len(data))]
			doc, _, err := in.insertLocked(s, "sys_attachment_doc", map[string]string{
				"position": strconv.Itoa(pos / attachmentChunk),
				"length":   strconv.Itoa(len(chunk)), "data": base64.StdEncoding.EncodeToString(chunk),
			}, writeOptions{script: true})
			if err != nil {
				return nil, nil, err
			}
			// A sys_ field, which no client write sets.
			doc["sys_attachment"] = rec["sys_id"]
			docs = append(docs, WriteEvent{Table: "sys_attachment_doc", Operation: "insert", Record: doc.Clone()})
		}
		return rec, docs, nil
	})
}

// attachmentMetaLocked is an attachment's metadata as the API answers it:
// every field as a string, and the download link.
func (in *Instance) attachmentMetaLocked(r *http.Request, rec Record) map[string]any {
	t := in.tables["sys_attachment"]
	out := in.renderLocked(t, rec, renderOptions{display: displayFalse, baseURL: in.baseURL(r), tablePath: "/api/now/table/"})
	delete(out, "sys_class_name") // not among the fields real instances answer
	out["download_link"] = in.baseURL(r) + "/api/now/attachment/" + rec["sys_id"] + "/file"
	return out
}

// attachmentLocked returns the attachment with id when s can read its record.
func (in *Instance) attachmentLocked(s *Session, id string) (Record, bool) {
	rec, ok := in.getLocked(in.tables["sys_attachment"], id)
	if !ok || !allowed(s, rec["table_name"], opRead) {
		return nil, false
	}
	return rec, true
}

// writableAttachmentLocked returns the attachment with id when s may
// change it (write its record's table): 404 when s cannot see it, the ACL
// refusal of op ("Update", "Delete") when s can only read it.
func (in *Instance) writableAttachmentLocked(s *Session, id, op string) (Record, *APIError) {
	rec, ok := in.attachmentLocked(s, id)
	if !ok {
		return nil, errNoRecord()
	}
	if !allowed(s, rec["table_name"], opWrite) {
		return nil, errACL(op)
	}
	return rec, nil
}

func (in *Instance) attachmentList(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	limit, offset := 1000, 0 // the documented default limit
	if n, err := strconv.Atoi(q.Get("sysparm_limit")); err == nil && n > 0 {
		limit = n
	}
	if n, err := strconv.Atoi(q.Get("sysparm_offset")); err == nil && n > 0 {
		offset = n
	}
	in.mu.RLock()
	rows, _ := in.selectLocked(in.tables["sys_attachment"], q.Get("sysparm_query"), s, 0, -1)
	result := []map[string]any{}
	seen := 0
	for _, rec := range rows {
		if !allowed(s, rec["table_name"], opRead) {
			continue // the query runs over what the caller may see
		}
		if seen >= offset && len(result) < limit {
			result = append(result, in.attachmentMetaLocked(r, rec))
		}
		seen++
	}
	in.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
}

func (in *Instance) attachmentGet(w http.ResponseWriter, r *http.Request, s *Session) {
	in.mu.RLock()
	rec, ok := in.attachmentLocked(s, r.PathValue("sys_id"))
	var meta map[string]any
	if ok {
		meta = in.attachmentMetaLocked(r, rec)
	}
	in.mu.RUnlock()
	if !ok {
		writeError(w, errNoRecord())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": meta})
}

// attachmentFile answers the file in its content type, with its metadata
// in X-Attachment-Metadata.
func (in *Instance) attachmentFile(w http.ResponseWriter, r *http.Request, s *Session) {
	if r.Method != http.MethodGet {
		writeError(w, errMethod())
		return
	}
	in.mu.RLock()
	rec, ok := in.attachmentLocked(s, r.PathValue("sys_id"))
	var meta map[string]any
	var data []byte
	if ok {
		meta = in.attachmentMetaLocked(r, rec)
		data = in.attachmentDataLocked(rec["sys_id"])
	}
	in.mu.RUnlock()
	if !ok {
		writeError(w, errNoRecord())
		return
	}
	if !acceptsMedia(r.Header.Get("Accept"), rec["content_type"]) {
		writeError(w, errNotAcceptable())
		return
	}
	b, _ := json.Marshal(meta)
	h := w.Header()
	h.Set("Content-Type", rec["content_type"])
	h.Set("X-Attachment-Metadata", string(b))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// acceptsMedia reports whether an Accept header allows media type mt:
// */* (the default), type/*, or the type itself.
func acceptsMedia(accept, mt string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	major, _, _ := strings.Cut(mt, "/")
	for _, a := range mediaTypes(accept) {
		if a == "*/*" || a == mt || a == major+"/*" {
			return true
		}
	}
	return false
}

// attachmentDataLocked joins an attachment's chunks in order.
func (in *Instance) attachmentDataLocked(id string) []byte {
	var chunks [][]byte
	for _, doc := range in.data["sys_attachment_doc"].rows {
		if doc["sys_attachment"] != id {
			continue
		}
		pos, _ := strconv.Atoi(doc["position"])
		b, _ := base64.StdEncoding.DecodeString(doc["data"])
		for len(chunks) <= pos {
			chunks = append(chunks, nil)
		}
		chunks[pos] = b
	}
	return bytes.Join(chunks, nil)
}

// attachmentRename changes the file name, for whoever may write the
// attachment's record.
func (in *Instance) attachmentRename(w http.ResponseWriter, r *http.Request, s *Session) {
	values, ok := in.checkedBody(w, r, nil)
	if !ok {
		return
	}
	if strings.TrimSpace(values["file_name"]) == "" {
		writeError(w, errAttachmentParams("file_name is required"))
		return
	}
	id := r.PathValue("sys_id")
	_, err := in.commit("update", func() (Record, []WriteEvent, error) {
		if _, aerr := in.writableAttachmentLocked(s, id, "Update"); aerr != nil {
			return nil, nil, aerr
		}
		rec, _, err := in.updateLocked(s, "sys_attachment", id, map[string]string{"file_name": values["file_name"]}, writeOptions{script: true})
		return rec, nil, err
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (in *Instance) attachmentDelete(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("sys_id")
	_, err := in.commit("delete", func() (Record, []WriteEvent, error) {
		rec, aerr := in.writableAttachmentLocked(s, id, "Delete")
		if aerr != nil {
			return nil, nil, aerr
		}
		docs := in.deleteMatchingLocked("sys_attachment_doc", "sys_attachment", id)
		in.deleteLocked(rec)
		return rec, docs, nil
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteMatchingLocked deletes the records of table whose field holds
// value and returns their delete events.
func (in *Instance) deleteMatchingLocked(table, field, value string) []WriteEvent {
	var gone []Record
	for _, r := range in.data[table].rows {
		if r[field] == value {
			gone = append(gone, r)
		}
	}
	var events []WriteEvent
	for _, r := range gone {
		in.deleteLocked(r)
		events = append(events, WriteEvent{Table: table, Operation: "delete", Record: r})
	}
	return events
}

// deleteAttachmentsLocked deletes the attachments of a record that is being
// deleted, as the platform does, and returns their delete events.
func (in *Instance) deleteAttachmentsLocked(recordID string) []WriteEvent {
	var events []WriteEvent
	for _, a := range in.data["sys_attachment"].rows {
		if a["table_sys_id"] == recordID {
			events = append(events, in.deleteMatchingLocked("sys_attachment_doc", "sys_attachment", a["sys_id"])...)
		}
	}
	return append(events, in.deleteMatchingLocked("sys_attachment", "table_sys_id", recordID)...)
}
