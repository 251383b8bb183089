package scorebridge

import (
	"context"
	"net/http"
)

// ConnectedInstance is a ServiceNow instance ready to be called: its base URL
// and an HTTP client that authenticates as the connection's integration user
// (refreshing OAuth tokens on its own).
type ConnectedInstance struct {
	ConnectionID string
	BaseURL      string // e.g. https://acme.service-now.com, no trailing slash
	HTTPClient   *http.Client
}

// InstanceSource hands out connected instances to the parts of scorebridge
// that call ServiceNow (ticket jobs, sync, the doctor).
type InstanceSource interface {
	// ConnectedInstance returns the instance of a connection, or of the
	// default connection when id is "". Returns ENOTFOUND when there is no
	// such connection, and EUNAUTHORIZED when the connection needs an admin
	// to authorize it again; callers keep their work queued in that case.
	ConnectedInstance(ctx context.Context, id string) (*ConnectedInstance, error)
}
