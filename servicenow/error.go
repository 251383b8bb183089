package servicenow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Error is a failed call: either the instance's own error answer
// ({"error":{"message","detail"},"status":"failure"}) or a transport failure
// (Err set, StatusCode 0: the request may or may not have been processed).
type Error struct {
	Method     string
	Path       string
	StatusCode int
	Message    string // the instance's error.message
	Detail     string // the instance's error.detail; may be empty
	// RetryAfter is how long the instance asked us to wait (429 and 503).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	switch {
	case e.StatusCode == 0 && e.Err != nil:
		return fmt.Sprintf("servicenow: %s %s: %v", e.Method, e.Path, e.Err)
	case e.Detail != "":
		return fmt.Sprintf("servicenow: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, e.Message, e.Detail)
	default:
		return fmt.Sprintf("servicenow: %s %s: %d %s", e.Method, e.Path, e.StatusCode, e.Message)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later may succeed: transport
// failures, rate limits, and server-side errors. A 4xx other than 429 is the
// instance refusing the request itself and will fail the same way again.
func (e *Error) Temporary() bool {
	return e.StatusCode == 0 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

// IsNotFound reports whether err is a 404 from the instance.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// IsUnauthorized reports whether err is a 401 from the instance.
func IsUnauthorized(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized
}

func newError(method, path string, resp *http.Response, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: resp.StatusCode}
	var env struct {
		Error struct {
			Message string          `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		e.Message = env.Error.Message
		var s string
		if json.Unmarshal(env.Error.Detail, &s) == nil {
			e.Detail = s
		}
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			e.RetryAfter = time.Until(t)
		}
	}
	return e
}
