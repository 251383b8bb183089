-- authorized_as is the ServiceNow user the current tokens act as, kept
-- beside integration_user (the user they should act as), so an
-- authorization made with the wrong account is seen and not silently taken
-- as the integration user. session_binding ties an authorization in flight
-- to the browser session that started it (a SHA-256, hex; '' when started
-- without one, from the API), so a callback from another session is refused.
ALTER TABLE connections ADD COLUMN authorized_as TEXT NOT NULL DEFAULT '';
ALTER TABLE connection_authorizations ADD COLUMN session_binding TEXT NOT NULL DEFAULT '';
