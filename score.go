package scorebridge

import (
	"context"
	"math"
	"time"
)

// EarnedScore is the points an action in a given state contributes.
// Resolved through third party and Completed earn full points, Risk accepted
// earns none, and the to-do states earn what the posture data says is
// achieved (partial credit).
func EarnedScore(state State, maxScore, currentScore float64) float64 {
	switch state {
	case StateThirdParty, StateCompleted:
		return maxScore
	case StateRiskAccepted:
		return 0
	}
	return math.Min(math.Max(currentScore, 0), maxScore)
}

// PartialScore is the proportional credit for a control implemented for
// done of total items (users, devices, mailboxes): 50 of 100 is half.
func PartialScore(maxScore float64, done, total int) float64 {
	if total <= 0 || done <= 0 {
		return 0
	}
	if done >= total {
		return maxScore
	}
	return maxScore * float64(done) / float64(total)
}

// ScoreItem is the slice of a recommendation the score needs, so stores can
// feed the computation without loading whole records.
type ScoreItem struct {
	Category Category
	// Source is optional: items without one count overall and per category
	// but in no source's score.
	Source       Source
	State        State
	MaxScore     float64
	CurrentScore float64
}

// Score is the Secure Score, overall and per category.
type Score struct {
	CurrentScore float64         `json:"currentScore"`
	MaxScore     float64         `json:"maxScore"`
	Percent      float64         `json:"percent"`
	Categories   []CategoryScore `json:"categories"`
	// Sources is the score of each source's actions (Microsoft's and the
	// organisation's own), every source in the order of Sources.
	Sources []SourceScore `json:"sources"`
}

// SourceScore is the score of the actions of one source.
type SourceScore struct {
	Source       Source  `json:"source"`
	CurrentScore float64 `json:"currentScore"`
	MaxScore     float64 `json:"maxScore"`
	Percent      float64 `json:"percent"`
}

// CategoryScore is the score of one category.
type CategoryScore struct {
	Category     Category `json:"category"`
	CurrentScore float64  `json:"currentScore"`
	MaxScore     float64  `json:"maxScore"`
	Percent      float64  `json:"percent"`
}

// ComputeScore sums the items. Every category and every source appears, in
// display order, even when it holds no action, so pages and API clients see a
// stable shape.
// Values are rounded to two decimals for display after summing.
func ComputeScore(items []ScoreItem) Score {
	var cur, max [5]float64
	srcCur, srcMax := make([]float64, len(Sources)), make([]float64, len(Sources))
	for _, it := range items {
		i := categoryIndex(it.Category)
		if i < 0 {
			continue
		}
		earned := EarnedScore(it.State, it.MaxScore, it.CurrentScore)
		cur[i] += earned
		max[i] += it.MaxScore
		if j := sourceIndex(it.Source); j >= 0 {
			srcCur[j] += earned
			srcMax[j] += it.MaxScore
		}
	}
	var s Score
	for i, c := range Categories {
		s.CurrentScore += cur[i]
		s.MaxScore += max[i]
		s.Categories = append(s.Categories, CategoryScore{
			Category:     c,
			CurrentScore: round2(cur[i]),
			MaxScore:     round2(max[i]),
			Percent:      percent(cur[i], max[i]),
		})
	}
	for j, src := range Sources {
		s.Sources = append(s.Sources, SourceScore{
			Source:       src,
			CurrentScore: round2(srcCur[j]),
			MaxScore:     round2(srcMax[j]),
			Percent:      percent(srcCur[j], srcMax[j]),
		})
	}
	s.Percent = percent(s.CurrentScore, s.MaxScore)
	s.CurrentScore, s.MaxScore = round2(s.CurrentScore), round2(s.MaxScore)
	return s
}

func categoryIndex(c Category) int {
	for i, v := range Categories {
		if v == c {
			return i
		}
	}
	return -1
}

func sourceIndex(src Source) int {
	for i, v := range Sources {
		if v == src {
			return i
		}
	}
	return -1
}

func percent(cur, max float64) float64 {
	if max <= 0 {
		return 0
	}
	return round2(cur / max * 100)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// ScoreSnapshot is the score as it stood on one day (UTC).
type ScoreSnapshot struct {
	Day     string    `json:"day"` // YYYY-MM-DD
	Score   Score     `json:"score"`
	TakenAt time.Time `json:"takenAt"`
}

// ScoreService computes the Secure Score and keeps its daily history.
type ScoreService interface {
	// CurrentScore computes the score from the actions as they are now.
	CurrentScore(ctx context.Context) (Score, error)

	// SnapshotScore stores today's score (UTC day), replacing an earlier
	// snapshot of the same day, and returns it.
	SnapshotScore(ctx context.Context) (*ScoreSnapshot, error)

	// ScoreHistory returns the snapshots of the last days days, oldest first.
	ScoreHistory(ctx context.Context, days int) ([]*ScoreSnapshot, error)
}
