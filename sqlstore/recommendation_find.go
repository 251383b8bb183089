package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// recommendationCursor is the position after the last row of a page: the
// sort key and id of that row (keyset paging, so rows added or removed
// between pages never make a row appear twice or go missing).
type recommendationCursor struct {
	Sort    string    `json:"s"`
	ID      string    `json:"i"`
	Impact  float64   `json:"n,omitempty"`
	Title   string    `json:"t,omitempty"`
	Updated time.Time `json:"u,omitzero"`
}

func (c recommendationCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (*recommendationCursor, error) {
	bad := scorebridge.FieldErrorf("cursor", "cursor is not one this server handed out; start again without it")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c recommendationCursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, bad
	}
	if c.Sort != sort {
		return nil, scorebridge.FieldErrorf("cursor", "cursor belongs to sort %q, not %q; start again without it", c.Sort, sort)
	}
	return &c, nil
}

// FindRecommendations returns one page of the actions matching filter and
// the cursor of the next page ("" at the end). Returns EINVALID for a
// filter its Validate refuses or a malformed cursor.
func (s *RecommendationService) FindRecommendations(ctx context.Context, filter scorebridge.RecommendationFilter) ([]*scorebridge.Recommendation, string, error) {
	if err := filter.Validate(); err != nil {
		return nil, "", err
	}
	var where []string
	var args []any
	if filter.Category != "" {
		c, _ := scorebridge.ParseCategory(string(filter.Category))
		where, args = append(where, "category = ?"), append(args, string(c))
	}
	if filter.Source != "" {
		where, args = append(where, "source = ?"), append(args, string(filter.Source))
	}
	if filter.State != "" {
		where, args = append(where, "state = ?"), append(args, string(filter.State))
	}
	if filter.ToDo {
		where, args = append(where, "state IN (?, ?)"), append(args, string(scorebridge.StateToAddress), string(scorebridge.StatePlanned))
	}
	if q := strings.TrimSpace(filter.Query); q != "" {
		where, args = append(where, `search_text LIKE ? ESCAPE '\'`), append(args, "%"+escapeLike(strings.ToLower(q))+"%")
	}

	limit := filter.Limit
	if limit == 0 {
		limit = scorebridge.DefaultRecommendationPage
	}

	sort := filter.Sort
	if sort == "" {
		sort = scorebridge.SortImpact
	}
	var order string
	switch sort {
	case scorebridge.SortImpact:
		order = "impact DESC, id"
	case scorebridge.SortTitle:
		order = "title_key, id"
	case scorebridge.SortUpdated:
		order = "updated_at DESC, id"
	}
	back := filter.Backward && filter.Cursor != ""
	if back {
		// Paging back reads the list in reverse from the cursor's row
		// (included), down the same indexes, and turns the page round.
		switch sort {
		case scorebridge.SortImpact:
			order = "impact, id DESC"
		case scorebridge.SortTitle:
			order = "title_key DESC, id DESC"
		case scorebridge.SortUpdated:
			order = "updated_at, id DESC"
		}
	}

	if filter.Cursor != "" {
		c, err := decodeCursor(filter.Cursor, sort)
		if err != nil {
			return nil, "", err
		}
		switch {
		case back && sort == scorebridge.SortImpact:
			where, args = append(where, "(impact > ? OR (impact = ? AND id <= ?))"), append(args, c.Impact, c.Impact, c.ID)
		case back && sort == scorebridge.SortTitle:
			where, args = append(where, "(title_key, id) <= (?, ?)"), append(args, c.Title, c.ID)
		case back && sort == scorebridge.SortUpdated:
			t := s.db.timeArg(c.Updated)
			where, args = append(where, "(updated_at > ? OR (updated_at = ? AND id <= ?))"), append(args, t, t, c.ID)
		case sort == scorebridge.SortImpact:
			where, args = append(where, "(impact < ? OR (impact = ? AND id > ?))"), append(args, c.Impact, c.Impact, c.ID)
		case sort == scorebridge.SortTitle:
			// Both keys ascend, so a row value comparison, which an index serves directly.
			where, args = append(where, "(title_key, id) > (?, ?)"), append(args, c.Title, c.ID)
		case sort == scorebridge.SortUpdated:
			t := s.db.timeArg(c.Updated)
			where, args = append(where, "(updated_at < ? OR (updated_at = ? AND id > ?))"), append(args, t, t, c.ID)
		}
	}

	query := `SELECT ` + recommendationColumns + `, impact, title_key FROM recommendations`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// One row more than the page tells whether there is a next page.
	query += ` ORDER BY ` + order + ` LIMIT ?`
	args = append(args, limit+1)

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("find recommendations: %w", err)
	}
	defer rows.Close()

	items := []*scorebridge.Recommendation{}
	var last recommendationCursor
	for rows.Next() {
		var impact float64
		var title string
		r, err := scanRecommendation(scanWithExtra{rows, []any{&impact, &title}})
		if err != nil {
			return nil, "", fmt.Errorf("find recommendations: %w", err)
		}
		if len(items) == limit && back {
			// The row before the page is the last of the page before it.
			reverseRecommendations(items)
			prev := recommendationCursor{Sort: sort, ID: r.ID, Impact: impact, Title: title, Updated: r.UpdatedAt}
			prev.keep(sort)
			return items, prev.encode(), rows.Close()
		}
		if len(items) == limit {
			next := recommendationCursor{Sort: sort, ID: last.ID}
			switch sort {
			case scorebridge.SortImpact:
				next.Impact = last.Impact
			case scorebridge.SortTitle:
				next.Title = last.Title
			case scorebridge.SortUpdated:
				next.Updated = last.Updated
			}
			return items, next.encode(), rows.Close()
		}
		items = append(items, r)
		last = recommendationCursor{ID: r.ID, Impact: impact, Title: title, Updated: r.UpdatedAt}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("find recommendations: %w", err)
	}
	if back {
		reverseRecommendations(items)
	}
	return items, "", nil
}

// keep clears the keys of the sorts other than sort, as the forward
// cursors carry only their own.
func (c *recommendationCursor) keep(sort string) {
	if sort != scorebridge.SortImpact {
		c.Impact = 0
	}
	if sort != scorebridge.SortTitle {
		c.Title = ""
	}
	if sort != scorebridge.SortUpdated {
		c.Updated = time.Time{}
	}
}

func reverseRecommendations(items []*scorebridge.Recommendation) {
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
}

// scanWithExtra reads the recommendation columns followed by extra ones.
type scanWithExtra struct {
	row   rowScanner
	extra []any
}

func (s scanWithExtra) Scan(dest ...any) error {
	return s.row.Scan(append(dest, s.extra...)...)
}

// escapeLike makes s match itself literally in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
