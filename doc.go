// Package scorebridge holds the domain of the scorebridge security posture
// center: improvement actions (recommendations), the Secure Score, and the
// service interfaces the adapters implement. It imports only the standard
// library; databases, ServiceNow and the web live in their own packages and
// are wired together in cmd/scorebridge.
package scorebridge
