// Package jobs runs scorebridge's durable background work on River, in the
// same database as everything else (riversqlite on SQLite, riverpgxv5 on
// PostgreSQL): today, sending ticket requests to ServiceNow exactly once.
//
// A ticket request is written in the same transaction as the job that sends
// it, so a request is never stored without a job nor a job queued for a
// request that was rolled back. The job writes each payload to the audit
// before sending it; when a create may have reached the instance before (its
// answer lost, or the process killed), the job first looks the request id up
// as the record's correlation_id and adopts the record it finds.
package jobs
