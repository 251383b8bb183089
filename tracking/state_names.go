package tracking

import (
	"context"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

var _ scorebridge.StateNameService = (*Service)(nil)

// maxChoices caps one read of the state choice lists: a fresh instance has
// about twenty states in the three tables, a heavily customised one a few
// dozen per language.
const maxChoices = 1000

// StateNames returns the connection's ticket state names.
func (s *Service) StateNames(ctx context.Context, connectionID string) (*scorebridge.StateNames, error) {
	return s.cfg.Store.StateNames(ctx, connectionID)
}

// RefreshStateNames reads the state choice lists of incident, change
// request and problem (sys_choice, element state) from the instance in
// one call and stores them as the connection's labels. Inactive choices
// and other languages' labels are left out; the admin's renames stay.
func (s *Service) RefreshStateNames(ctx context.Context, connectionID string) (*scorebridge.StateNames, error) {
	inst, err := s.cfg.Instances.ConnectedInstance(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	client := servicenow.NewClient(inst.BaseURL, inst.HTTPClient)
	recs, _, err := client.List(ctx, "sys_choice", servicenow.ListOptions{
		Query:  "nameIN" + strings.Join(scorebridge.StateTables, ",") + "^element=state^ORDERBYname^ORDERBYsequence",
		Fields: []string{"name", "value", "label", "sequence", "inactive", "language"},
		Limit:  maxChoices, NoCount: true,
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var labels []scorebridge.StateLabel
	for _, r := range recs {
		if r["inactive"] == "true" || (r["language"] != "" && r["language"] != "en") {
			continue
		}
		if _, ok := scorebridge.TicketTypeOfTable(r["name"]); !ok {
			continue
		}
		if _, err := strconv.Atoi(r["value"]); err != nil || strings.TrimSpace(r["label"]) == "" {
			continue
		}
		k := r["name"] + "|" + r["value"]
		if seen[k] {
			continue
		}
		seen[k] = true
		seq, _ := strconv.Atoi(r["sequence"])
		labels = append(labels, scorebridge.StateLabel{Table: r["name"], Value: r["value"], Label: strings.TrimSpace(r["label"]), Sequence: seq})
	}
	if err := s.cfg.Store.StoreStateLabels(ctx, inst.ConnectionID, labels, s.cfg.Now()); err != nil {
		return nil, err
	}
	return s.cfg.Store.StateNames(ctx, inst.ConnectionID)
}

// RenameStates validates renames and replaces the connection's renames
// with them; the store audits the change in the same transaction.
func (s *Service) RenameStates(ctx context.Context, connectionID string, renames []scorebridge.StateRename) (*scorebridge.StateNames, error) {
	if err := scorebridge.ValidateRenames(renames); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.RenameStates(ctx, connectionID, renames); err != nil {
		return nil, err
	}
	return s.cfg.Store.StateNames(ctx, connectionID)
}

// namer names states as the center shows them for a connection (its
// renames, then its instance's labels, then a fresh instance's), so the
// names a change stores in the ticket's history, its audit event and a
// drift's notice are the ones the pages show. Names that cannot be read
// fall back to a fresh instance's: a change is never held up for a label.
func (s *Service) namer(ctx context.Context, connectionID string) func(scorebridge.TicketType, string) string {
	names, err := s.cfg.Store.StateNames(ctx, connectionID)
	if err != nil {
		s.cfg.Logger.Warn("state names not read; fresh-instance names are stored with the change", "connection", connectionID, "error", err)
		return StateName
	}
	return names.Name
}
