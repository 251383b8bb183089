package scorebridge

import "context"

// Roles a person or API token can hold, from most to least powerful.
const (
	RoleAdmin    = "admin"    // Security admin: connect, configure, share, change states
	RoleOperator = "operator" // Security operator: share and change states
	RoleReader   = "reader"   // Security reader: view only
)

// User is whoever is acting: a signed-in person or an API token.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

type userContextKey struct{}

// NewContextWithUser returns a context that carries the acting user, so
// stores can record who did what without every method taking a parameter.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userContextKey{}, u)
}

// UserFromContext returns the acting user, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userContextKey{}).(*User)
	return u
}

// ActorFromContext names the acting user for audit and history records;
// "system" when the work was started by scorebridge itself.
func ActorFromContext(ctx context.Context) string {
	if u := UserFromContext(ctx); u != nil && u.Name != "" {
		return u.Name
	}
	return "system"
}
