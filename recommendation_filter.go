package scorebridge

import (
	"strings"
	"unicode/utf8"
)

// Recommendation list limits, the same for the API, the pages and the
// stores.
const (
	// DefaultRecommendationPage is the page size when a filter gives none.
	DefaultRecommendationPage = 50
	// MaxRecommendationPage is the largest page a filter may ask for.
	MaxRecommendationPage = 200
	// MaxQueryLength caps a search, in characters.
	MaxQueryLength = 200
	// MaxCursorLength caps a cursor; the ones handed out are far shorter.
	MaxCursorLength = 1024
)

// Validate checks a filter before it selects anything: known category
// (any case, as ParseCategory reads it), source, state and sort; a search
// of valid text; a limit from 0 (the default) to MaxRecommendationPage; a
// cursor of plausible length (its content is the store's to check).
// Returns EINVALID naming the field as the API spells it.
func (f RecommendationFilter) Validate() error {
	if f.Category != "" {
		if err := f.Category.Validate(); err != nil {
			return err
		}
	}
	if f.Source != "" {
		if err := f.Source.Validate(); err != nil {
			return err
		}
	}
	if f.State != "" {
		if err := f.State.Validate(); err != nil {
			return err
		}
	}
	q := strings.TrimSpace(f.Query)
	switch {
	case !utf8.ValidString(q):
		return FieldErrorf("q", "q is not valid UTF-8")
	case strings.ContainsRune(q, 0):
		return FieldErrorf("q", "q must not contain NUL characters")
	case utf8.RuneCountInString(q) > MaxQueryLength:
		return FieldErrorf("q", "q must be at most %d characters (got %d)", MaxQueryLength, utf8.RuneCountInString(q))
	}
	if f.Sort != "" && !oneOf(Sorts, f.Sort) {
		return notOneOf("sort", Sorts, f.Sort)
	}
	if f.Limit < 0 || f.Limit > MaxRecommendationPage {
		return FieldErrorf("limit", "limit must be a whole number from 1 to %d (got %d)", MaxRecommendationPage, f.Limit)
	}
	if len(f.Cursor) > MaxCursorLength {
		return FieldErrorf("cursor", "cursor is not one this server issued")
	}
	if f.Backward && f.Cursor == "" {
		return FieldErrorf("cursor", "a cursor is needed to page back")
	}
	return nil
}
