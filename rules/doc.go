// Package rules is the automation rules engine: it turns a rule's
// conditions into the tickets the rule makes (a preview shows exactly
// those, making none), and runs rules after imports and on a schedule
// through the durable ticket path, never making a second open ticket for
// an action.
package rules
