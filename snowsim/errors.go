package snowsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// APIError is an error as the REST APIs answer it:
// {"error":{"message":...,"detail":...},"status":"failure"}. The Go methods of
// Instance return the same errors so tests see what a client would.
type APIError struct {
	Status  int
	Message string
	Detail  string // "" renders as null
}

func (e *APIError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("snowsim: %d %s", e.Status, e.Message)
	}
	return fmt.Sprintf("snowsim: %d %s: %s", e.Status, e.Message, e.Detail)
}

// MarshalJSON renders the documented error envelope.
func (e *APIError) MarshalJSON() ([]byte, error) {
	var detail any
	if e.Detail != "" {
		detail = e.Detail
	}
	return json.Marshal(map[string]any{
		"error":  map[string]any{"message": e.Message, "detail": detail},
		"status": "failure",
	})
}

// Errors with the exact wording of ServiceNow's documentation (SERVICENOW.md,
// c_TableAPI.md, r_RESTAPIHTTPResponseCodes.md).
func errNotAuthenticated() *APIError {
	return &APIError{Status: http.StatusUnauthorized, Message: "User Not Authenticated", Detail: "Required to provide Auth information"}
}

func errNoRecord() *APIError {
	return &APIError{Status: http.StatusNotFound, Message: "No Record found", Detail: "Record doesn't exist or ACL restricts the record retrieval"}
}

func errInvalidTable(name string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: "Invalid table " + name}
}

func errNoResource() *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: "Requested URI does not represent any resource"}
}

func errMethod() *APIError {
	return &APIError{Status: http.StatusMethodNotAllowed, Message: "Method not Supported", Detail: "HTTP method not supported by this resource"}
}

func errACL(op string) *APIError {
	return &APIError{Status: http.StatusForbidden, Message: "Operation Failed", Detail: "ACL Exception " + op + " Failed due to security constraints"}
}

func errQueryRights() *APIError {
	return &APIError{Status: http.StatusForbidden, Message: "Insufficient rights to query records", Detail: "Field(s) present in the query do not have permission to be read"}
}

func errBadJSON(detail string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: "Exception while reading request", Detail: detail}
}

// writeJSON answers with a JSON body and the given status.
func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// Every body is built from strings and maps; failing here is a bug.
		b = []byte(`{"error":{"message":"Internal error","detail":null},"status":"failure"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers with the error envelope; a 401 also carries the
// challenge ServiceNow sends.
func writeError(w http.ResponseWriter, e *APIError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `BASIC realm="Service-now"`)
	}
	writeJSON(w, e.Status, e)
}
