package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// maxImportBytes caps an uploaded file; the parsers refuse more anyway.
const maxImportBytes = 128 << 20

// postureOr404 returns the posture service, or answers 404 when the
// center was built without one.
func (s *Server) postureOr404(w http.ResponseWriter, r *http.Request) PostureService {
	if s.posture == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "This center has no posture sources."))
	}
	return s.posture
}

// sourceItem is a source as the API answers it, with its latest import.
type sourceItem struct {
	*scorebridge.PostureSource
	Score      scorebridge.Score   `json:"score"`
	LastImport *scorebridge.Import `json:"lastImport,omitempty"`
}

func (s *Server) sourceItem(r *http.Request, src *scorebridge.PostureSource) (sourceItem, error) {
	p := s.posture
	item := sourceItem{PostureSource: src}
	var err error
	if item.Score, err = p.SourceScore(r.Context(), src.ID); err != nil {
		return item, err
	}
	imps, err := p.FindImports(r.Context(), src.ID, 1)
	if err != nil {
		return item, err
	}
	if len(imps) > 0 {
		item.LastImport = imps[0]
	}
	return item, nil
}

func (s *Server) handleAPISourceList(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	sources, err := p.FindSources(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	resp := listResponse[sourceItem]{Items: []sourceItem{}}
	for _, src := range sources {
		item, err := s.sourceItem(r, src)
		if err != nil {
			s.error(w, r, err)
			return
		}
		resp.Items = append(resp.Items, item)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleAPISourceGet(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	src, err := p.FindSourceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	item, err := s.sourceItem(r, src)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, item)
}

// sourceInput is the body of POST /api/v1/sources: a Graph connector.
type sourceInput struct {
	Name         string `json:"name"`
	TenantID     string `json:"tenantId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	TokenURL     string `json:"tokenUrl"`
	GraphURL     string `json:"graphUrl"`
	WriteBack    bool   `json:"writeBack"`
}

func (in *sourceInput) source() *scorebridge.PostureSource {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "Microsoft Secure Score (" + strings.TrimSpace(in.TenantID) + ")"
	}
	return &scorebridge.PostureSource{Kind: scorebridge.SourceKindGraph, Name: name, TenantID: in.TenantID, Connector: true,
		ClientID: in.ClientID, TokenURL: in.TokenURL, GraphURL: in.GraphURL, WriteBack: in.WriteBack}
}

func (s *Server) handleAPISourceCreate(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	var in sourceInput
	known := map[string]any{"name": &in.Name, "tenantId": &in.TenantID, "clientId": &in.ClientID, "clientSecret": &in.ClientSecret,
		"tokenUrl": &in.TokenURL, "graphUrl": &in.GraphURL, "writeBack": &in.WriteBack}
	for _, m := range members {
		dst, ok := known[m.Name]
		if !ok {
			s.error(w, r, scorebridge.FieldErrorf(m.Name, "unknown field %q", m.Name))
			return
		}
		if err := json.Unmarshal(m.Value, dst); err != nil {
			s.error(w, r, scorebridge.FieldErrorf(m.Name, "%s has the wrong type", m.Name))
			return
		}
	}
	src := in.source()
	if err := p.CreateSource(r.Context(), src, in.ClientSecret); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, src)
}

func (s *Server) handleAPISourceImports(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.error(w, r, scorebridge.FieldErrorf("limit", "limit must be a whole number from 1 to 500"))
			return
		}
		limit = n
	}
	imps, err := p.FindImports(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.Import]{Items: imps})
}

func (s *Server) handleAPISourceHistory(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	days := 90
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistoryDays {
			s.error(w, r, scorebridge.FieldErrorf("days", "days must be a whole number from 1 to %d", maxHistoryDays))
			return
		}
		days = n
	}
	if _, err := p.FindSourceByID(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	h, err := p.SourceHistory(r.Context(), r.PathValue("id"), days)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.ReportedScore]{Items: h})
}

func (s *Server) handleAPISourceImport(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	imp, err := p.ImportSource(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, imp)
}

// readImportFile reads an uploaded file: the whole body, or the "file" part
// of a multipart form. It returns the file name given, if any.
func readImportFile(w http.ResponseWriter, r *http.Request) (string, []byte, error) {
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var name string
	var data []byte
	var err error
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, perr := mr.NextPart()
			if perr != nil {
				if errors.Is(perr, io.EOF) {
					return "", nil, scorebridge.FieldErrorf("file", "choose a file to import")
				}
				err = perr
				break
			}
			if part.FormName() == "file" {
				name = part.FileName()
				data, err = io.ReadAll(part)
				break
			}
		}
	} else {
		name = r.URL.Query().Get("name")
		data, err = io.ReadAll(body)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", nil, scorebridge.FieldErrorf("file", "the file must be at most %d MiB", maxImportBytes>>20)
		}
		return "", nil, scorebridge.FieldErrorf("file", "the file could not be read")
	}
	return name, data, nil
}

func (s *Server) handleAPIImportFile(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	name, data, err := readImportFile(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	imp, err := p.ImportFile(r.Context(), name, data, "api")
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, imp)
}

func (s *Server) handleAPIImportUnmapped(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Import %q not found.", r.PathValue("id")))
		return
	}
	u, err := p.FindUnmapped(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.UnmappedRecord]{Items: u})
}

func (s *Server) handleAPIRegressions(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	recs, err := p.FindRegressed(r.Context(), 0)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.Recommendation]{Items: recs})
}

func (s *Server) handleAPICatalogRemove(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	n, err := p.RemoveCatalog(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": n})
}
