// Package clienttest drives the simulator with third-party ServiceNow
// clients as they come, so its transport cannot drift from what real
// clients send. It holds tests only.
package clienttest
