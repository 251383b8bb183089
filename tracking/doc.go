// Package tracking brings the state of the center's tickets back from
// ServiceNow: an incremental sync on a sys_updated_on watermark, a signed
// push endpoint a business rule calls, and the action that follows its
// ticket (Planned, Completed, drift, To address).
package tracking
