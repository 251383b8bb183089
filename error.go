package scorebridge

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The web layer maps each one to an HTTP
// status in a single table, so a new code needs an entry there too.
const (
	ECONFLICT       = "conflict"          // the action conflicts with the current state
	EINTERNAL       = "internal"          // a bug or an unexpected failure; never shown in detail
	EINVALID        = "invalid"           // bad input; Field says which
	ENOTFOUND       = "not_found"         // the entity does not exist
	EUNAUTHORIZED   = "unauthorized"      // no or bad credentials
	EFORBIDDEN      = "forbidden"         // credentials fine, role insufficient
	EUNAVAILABLE    = "unavailable"       // a remote system (ServiceNow, Graph) could not be reached
	ETOOMANYREQUEST = "too_many_requests" // throttled
)

// Error is the application error. Message is written for the person who sent
// the request; Field names the input that was wrong, when there is one.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("scorebridge error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("scorebridge error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an application error with the given code and message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID error about one input field.
func FieldErrorf(field string, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other
// error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of an application error, or a
// generic one for anything else so internals never leak to a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field an application error is about, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
