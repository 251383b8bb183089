// Package catalog holds the improvement actions scorebridge ships with: a
// curated set of Secure Score style recommendations across identity, data,
// devices, apps and cloud infrastructure, so a fresh installation has a
// meaningful to-do list and score before any posture source is connected.
//
// The actions live in actions.json, embedded in the binary. Recommendations
// parses and validates them; callers seed a store with the result.
package catalog
