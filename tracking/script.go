package tracking

import "strings"

// BusinessRuleScript is the async business rule an admin pastes on the
// instance (table task, after insert/update/delete, records whose
// correlation_display is scorebridge): it posts the change to endpoint,
// signed with secret as ReceivePush checks.
func BusinessRuleScript(endpoint, secret string) string {
	r := strings.NewReplacer("{{ENDPOINT}}", jsString(endpoint), "{{SECRET}}", jsString(secret))
	return r.Replace(`(function executeRule(current, previous /*null when async*/) {
	var fields = ['number', 'state', 'priority', 'due_date', 'close_code', 'close_notes',
		'resolved_at', 'closed_at', 'sys_updated_on', 'sys_mod_count', 'assigned_to', 'assignment_group'];
	var record = {};
	for (var i = 0; i < fields.length; i++) {
		record[fields[i]] = current.getValue(fields[i]) || '';
	}
	var body = JSON.stringify({
		table: current.getTableName(),
		operation: current.operation(),
		sys_id: current.getUniqueValue(),
		sys_mod_count: current.getValue('sys_mod_count'),
		record: record,
		display: {
			assigned_to: current.assigned_to.getDisplayValue(),
			assignment_group: current.assignment_group.getDisplayValue(),
			work_notes: current.work_notes.getJournalEntry(1),
			comments: current.comments.getJournalEntry(1)
		}
	});
	var ts = '' + Math.floor(new GlideDateTime().getNumericValue() / 1000);
	var key = GlideStringUtil.base64Encode({{SECRET}});
	var sig = new GlideCertificateEncryption().generateMac(key, 'HmacSHA256', ts + '.' + body);
	var rm = new sn_ws.RESTMessageV2();
	rm.setEndpoint({{ENDPOINT}});
	rm.setHttpMethod('POST');
	rm.setRequestHeader('Content-Type', 'application/json');
	rm.setRequestHeader('X-Scorebridge-Timestamp', ts);
	rm.setRequestHeader('X-Scorebridge-Signature', sig);
	rm.setRequestBody(body);
	rm.executeAsync();
})(current, previous);
`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "<", `\x3c`).Replace(s) + "'"
}
