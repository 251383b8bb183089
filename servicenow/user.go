package servicenow

import (
	"context"
	"net/http"
	"net/url"
)

// SetPassword sets a user's password. ServiceNow hashes sys_user.user_password
// only when it is written as a display value (sysparm_input_display_value=true);
// written as an actual value it is stored as given and no login matches it.
func (c *Client) SetPassword(ctx context.Context, userSysID, password string) error {
	q := url.Values{}
	q.Set("sysparm_input_display_value", "true")
	q.Set("sysparm_fields", "sys_id")
	_, err := c.do(ctx, http.MethodPatch, tablePath("sys_user", userSysID), q, map[string]string{"user_password": password}, nil)
	return err
}
