package snowsim

// Bearer authentication: the REST APIs accept "Authorization: Bearer <access
// token>" for tokens issued by /oauth_token.do (oauth.go). The core pipeline
// (auth_basic.go) calls the lookup below and answers an unknown, expired or
// revoked token with the documented 401 and WWW-Authenticate header, like a
// wrong Basic password. The token's user must still be active and not locked
// out, and its application (oauth_entity) still active.

// bearerUser is the instance's BearerLookup: an access token that exists,
// has not expired, and whose client is still active.
func (o *oauthServer) bearerUser(token string) (string, bool) {
	rec, ok := o.credential(token, tokenAccess)
	if !ok {
		return "", false
	}
	if peer := rec["peer"]; peer != "" {
		if e, ok := o.in.Get("oauth_entity", peer); !ok || e["active"] != "true" {
			return "", false
		}
	}
	return rec["user"], true
}
