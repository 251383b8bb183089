package sqlstore

// NotCountingQuery is the score exclusions' query, for the plan tests.
var NotCountingQuery = notCountingQuery
