package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// sourcesPage lists the posture sources, takes a file to import and a new
// Graph connector.
type sourcesPage struct {
	pageBase
	Sources        []sourceItem
	CatalogActions int
	CatalogCounts  bool
	UserScore      scorebridge.Score
	Error          string
	Form           sourceInput
	FieldErrors    map[string]string
}

// sourcePage shows one source: its score beside the source's own, the
// daily history, and every import with what it did.
type sourcePage struct {
	pageBase
	Source   sourceItem
	Imports  []*scorebridge.Import
	Unmapped []*scorebridge.UnmappedRecord
	History  []*scorebridge.ReportedScore
	Chart    historyChart
}

var sourceNotices = map[string]string{
	"imported": "Imported.",
	"created":  "Connector saved. Press Import now to read the tenant.",
	"removed":  "The built-in sample actions were removed (those shared as tickets stay).",
}

func (s *Server) handleSourcesPage(w http.ResponseWriter, r *http.Request) {
	s.renderSources(w, r, http.StatusOK, &sourcesPage{pageBase: pageBase{Notice: sourceNotices[r.URL.Query().Get("done")]}})
}

func (s *Server) renderSources(w http.ResponseWriter, r *http.Request, status int, page *sourcesPage) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	page.Title, page.Nav = "Posture sources", "sources"
	sources, err := p.FindSources(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	for _, src := range sources {
		item, err := s.sourceItem(r, src)
		if err != nil {
			s.error(w, r, err)
			return
		}
		page.Sources = append(page.Sources, item)
	}
	if page.CatalogActions, page.CatalogCounts, err = p.CatalogStatus(r.Context()); err != nil {
		s.error(w, r, err)
		return
	}
	if page.UserScore, err = p.UserScore(r.Context()); err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, status, "sources", page)
}

func (s *Server) handleSourceUpload(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	name, data, err := readImportFile(w, r)
	if err == nil {
		var imp *scorebridge.Import
		if imp, err = p.ImportFile(r.Context(), name, data, "upload"); err == nil {
			http.Redirect(w, r, "/sources/"+imp.SourceID+"?done=imported", http.StatusSeeOther)
			return
		}
	}
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
		s.error(w, r, err)
		return
	}
	msg := scorebridge.ErrorMessage(err)
	if name != "" {
		msg = name + ": " + msg
	}
	s.renderSources(w, r, http.StatusBadRequest, &sourcesPage{Error: msg})
}

func (s *Server) handleSourceCreate(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	in := sourceInput{
		Name: r.PostForm.Get("name"), TenantID: r.PostForm.Get("tenantId"), ClientID: r.PostForm.Get("clientId"),
		ClientSecret: r.PostForm.Get("clientSecret"), TokenURL: r.PostForm.Get("tokenUrl"), GraphURL: r.PostForm.Get("graphUrl"),
		WriteBack: r.PostForm.Get("writeBack") == "on",
	}
	src := in.source()
	if err := p.CreateSource(r.Context(), src, in.ClientSecret); err != nil {
		if code := scorebridge.ErrorCode(err); code != scorebridge.EINVALID && code != scorebridge.ECONFLICT {
			s.error(w, r, err)
			return
		}
		in.ClientSecret = "" // never sent back to the page
		field := scorebridge.ErrorField(err)
		if field == "" {
			field = "tenantId"
		}
		s.renderSources(w, r, http.StatusBadRequest, &sourcesPage{Form: in, FieldErrors: map[string]string{field: scorebridge.ErrorMessage(err)}})
		return
	}
	http.Redirect(w, r, "/sources/"+src.ID+"?done=created", http.StatusSeeOther)
}

func (s *Server) handleSourceImportNow(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	if _, err := p.ImportSource(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/sources/"+r.PathValue("id")+"?done=imported", http.StatusSeeOther)
}

func (s *Server) handleCatalogRemove(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	if _, err := p.RemoveCatalog(r.Context()); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/sources?done=removed", http.StatusSeeOther)
}

func (s *Server) handleSourcePage(w http.ResponseWriter, r *http.Request) {
	p := s.postureOr404(w, r)
	if p == nil {
		return
	}
	ctx := r.Context()
	src, err := p.FindSourceByID(ctx, r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	item, err := s.sourceItem(r, src)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := &sourcePage{pageBase: pageBase{Title: src.Name, Nav: "sources", Notice: sourceNotices[r.URL.Query().Get("done")]}, Source: item}
	if page.Imports, err = p.FindImports(ctx, src.ID, 50); err != nil {
		s.error(w, r, err)
		return
	}
	if len(page.Imports) > 0 && page.Imports[0].Unmapped > 0 {
		if page.Unmapped, err = p.FindUnmapped(ctx, page.Imports[0].ID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if page.History, err = p.SourceHistory(ctx, src.ID, 90); err != nil {
		s.error(w, r, err)
		return
	}
	page.Chart = newHistoryChart(sourcePoints(page.History))
	s.render(w, r, http.StatusOK, "source", page)
}

// homePosture is what the home page shows of imported data.
type homePosture struct {
	Sources   []sourceItem
	Regressed []*scorebridge.Recommendation
	UserScore scorebridge.Score
	// Chart is the first Graph source's reported daily score.
	ChartSource string
	Chart       historyChart
	History     []*scorebridge.ReportedScore
}

func (s *Server) homePosture(ctx context.Context, r *http.Request) (*homePosture, error) {
	if s.posture == nil {
		return nil, nil
	}
	p := s.posture
	sources, err := p.FindSources(ctx)
	if err != nil {
		return nil, err
	}
	h := &homePosture{}
	for _, src := range sources {
		item, err := s.sourceItem(r, src)
		if err != nil {
			return nil, err
		}
		h.Sources = append(h.Sources, item)
		if src.Kind == scorebridge.SourceKindGraph && h.ChartSource == "" {
			if h.History, err = p.SourceHistory(ctx, src.ID, 90); err != nil {
				return nil, err
			}
			if len(h.History) > 0 {
				h.ChartSource = src.Name
				h.Chart = newHistoryChart(sourcePoints(h.History))
			}
		}
	}
	if h.Regressed, err = p.FindRegressed(ctx, 10); err != nil {
		return nil, err
	}
	if h.UserScore, err = p.UserScore(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// historyChart is a score-over-time chart drawn on the server as SVG: one
// line for the overall percent and one per category. The table beside it
// carries the same numbers for readers without the picture.
type historyChart struct {
	Width, Height int
	Lines         []chartLine
	First, Last   string
}

type chartLine struct {
	Name   string
	Class  string
	Points string
}

type chartPoint struct {
	Day        string
	Percent    float64
	Categories []scorebridge.CategoryScore
}

func sourcePoints(h []*scorebridge.ReportedScore) []chartPoint {
	out := make([]chartPoint, len(h))
	for i, d := range h {
		out[i] = chartPoint{Day: d.Day, Percent: d.Percent, Categories: d.Categories}
	}
	return out
}

func newHistoryChart(points []chartPoint) historyChart {
	c := historyChart{Width: 600, Height: 160}
	if len(points) == 0 {
		return c
	}
	c.First, c.Last = points[0].Day, points[len(points)-1].Day
	step := 0.0
	if len(points) > 1 {
		step = float64(c.Width-8) / float64(len(points)-1)
	}
	line := func(name, class string, pct func(chartPoint) (float64, bool)) {
		var b strings.Builder
		for i, p := range points {
			v, ok := pct(p)
			if !ok {
				continue
			}
			x := 4 + int(step*float64(i))
			y := c.Height - 4 - int(v/100*float64(c.Height-8))
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(x) + "," + strconv.Itoa(y))
		}
		if b.Len() > 0 {
			c.Lines = append(c.Lines, chartLine{Name: name, Class: class, Points: b.String()})
		}
	}
	line("Overall", "overall", func(p chartPoint) (float64, bool) { return p.Percent, true })
	for i, cat := range scorebridge.Categories {
		line(string(cat), fmt.Sprintf("cat%d", i), func(p chartPoint) (float64, bool) {
			if i < len(p.Categories) && p.Categories[i].MaxScore > 0 {
				return p.Categories[i].Percent, true
			}
			return 0, false
		})
	}
	return c
}
