package web

import (
	"log/slog"
	"net/http"

	"github.com/scorebridge/scorebridge"
)

// Error codes only the HTTP layer produces: they describe the request
// envelope, not the domain.
const (
	codeUnsupportedMediaType = "unsupported_media_type"
	codeRequestTooLarge      = "request_too_large"
	codeMethodNotAllowed     = "method_not_allowed"
)

// statusByCode maps every error code to its HTTP status. A code missing here
// answers 500, so a new domain code needs a line in this table.
var statusByCode = map[string]int{
	scorebridge.EINVALID:        http.StatusBadRequest,
	scorebridge.ENOTFOUND:       http.StatusNotFound,
	scorebridge.ECONFLICT:       http.StatusConflict,
	scorebridge.EUNAUTHORIZED:   http.StatusUnauthorized,
	scorebridge.EFORBIDDEN:      http.StatusForbidden,
	scorebridge.EUNAVAILABLE:    http.StatusServiceUnavailable,
	scorebridge.ETOOMANYREQUEST: http.StatusTooManyRequests,
	scorebridge.EINTERNAL:       http.StatusInternalServerError,
	codeUnsupportedMediaType:    http.StatusUnsupportedMediaType,
	codeRequestTooLarge:         http.StatusRequestEntityTooLarge,
	codeMethodNotAllowed:        http.StatusMethodNotAllowed,
	codeIdempotencyKeyReused:    http.StatusUnprocessableEntity,
	codeMisdirected:             http.StatusMisdirectedRequest,
}

// errorStatusCode returns the HTTP status for an application error code.
func errorStatusCode(code string) int {
	if status, ok := statusByCode[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// error answers err in the request's format (JSON for the API, a page
// otherwise). Internal errors are logged in full and shown as
// "Internal error." only.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code, message, field := scorebridge.ErrorCode(err), scorebridge.ErrorMessage(err), scorebridge.ErrorField(err)
	if code == scorebridge.EINTERNAL {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		message = "Internal error."
	}
	s.errorStatus(w, r, errorStatusCode(code), code, message, field)
}

// errorStatus writes an error with an explicit status.
func (s *Server) errorStatus(w http.ResponseWriter, r *http.Request, status int, code, message, field string) {
	if isAPI(r) {
		writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message, Field: field}})
		return
	}
	page := &errorPage{
		pageBase: pageBase{Title: http.StatusText(status)},
		Status:   status,
		Code:     code,
		Message:  message,
	}
	page.Back, page.BackLabel = s.wayBack(r)
	s.render(w, r, status, "error", page)
}

// levelFor picks the log level of a request line: server faults stand out.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
