// Package snowsim is a ServiceNow instance simulator: an http.Handler that
// behaves like a fresh instance as ServiceNow documents it (Table API,
// Aggregate API, Batch API, encoded queries, Basic authentication, ACLs,
// choice lists, journal fields), for demos and for every integration test of
// scorebridge.
//
// The documentation is the specification. Where the simulator and ServiceNow's
// documentation disagree, the simulator is wrong.
//
// Layout: instance.go holds the Instance and its request pipeline
// (authenticate, then hooks such as rate limits, then authorize, then the
// handler); schema.go the tables and fields; records.go the record store and
// business rules; query.go encoded queries; display.go how values render;
// table_api.go, stats.go, batch.go, attachment.go and importset.go the REST
// APIs, xml.go their XML form; auth_basic.go and acl.go who may do what;
// rules.go the business rules; seed.go the data of a fresh instance;
// persist.go the optional state file.
//
// Faithful details worth knowing: Table API v1 answers an empty list with
// 404 while v2 and the unversioned path answer 200 {"result":[]}; values in
// encoded queries are case-sensitive except for LIKE, NOT LIKE, STARTSWITH
// and ENDSWITH; incident priority is the impact x urgency lookup and
// ignores a sent priority, while change_request priority is an ordinary
// field (default 4) because the base system's priority lookup is an incident
// rule; password fields are stored as digests and render as "".
//
// Known differences from a real instance: XML (xml.go) mirrors the JSON
// shapes, which the documentation shows only in part; state model
// transitions are not enforced (any state may follow any other); sysparm_view,
// sysparm_query_category, sysparm_query_no_domain and the Aggregate API's
// sysparm_having are accepted and ignored; a body over
// glide.rest.max_content_length (10 MB) gets 400 with the message of
// KB0747638, the status ServiceNow gives other unreadable requests (the KB
// does not state it). The Attachment API's answers to an oversized file
// and to missing parameters are 400 with wording of the simulator's: the
// documentation gives neither.
//
// Time zone: a fresh instance's system time zone (sys_properties
// glide.sys.default.tz) is America/Los_Angeles, and seeded users leave
// sys_user.time_zone empty so they inherit it. Display values and
// javascript:gs.dateGenerate(...) in encoded queries use the session user's
// zone; stored values are UTC.
package snowsim
