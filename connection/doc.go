// Package connection connects the center to ServiceNow instances and keeps
// the connections healthy: the installation checklist, the OAuth
// authorization code grant with PKCE performed by the integration user,
// access tokens refreshed before they expire (one refresh at a time per
// connection), the "authorization required" state when the instance refuses
// the refresh token, removal with revocation, and the doctor.
//
// Service implements scorebridge.ConnectionService and, through it,
// scorebridge.InstanceSource, which hands every part of the center that
// calls ServiceNow an *http.Client that authenticates as the integration
// user. Secrets live encrypted in its Store (sqlstore.ConnectionStore) and
// in clear only in this package's memory.
package connection
