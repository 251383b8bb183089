package connection_test

import (
	"context"
	"net/http"

	"github.com/scorebridge/scorebridge/servicenow"
)

// bearer is a TokenSource for one known token, to check that a token
// stopped working.
type bearer string

func (b bearer) AccessToken(context.Context) (string, error) { return string(b), nil }
func (b bearer) TokenRejected(string)                        {}
func (b bearer) CallSucceeded(context.Context)               {}

func bearerClient(token string) *http.Client {
	return &http.Client{Transport: &servicenow.Transport{Source: bearer(token)}}
}
