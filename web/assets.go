package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
)

//go:embed static
var staticFS embed.FS

// asset is one static file, served under a URL that holds the hash of its
// content so browsers may cache it for a year: a new build changes the URL.
type asset struct {
	hash        string
	body        []byte
	contentType string
}

// assetSet holds every static file by name.
type assetSet struct {
	byName map[string]*asset
}

func loadAssets() (*assetSet, error) {
	set := &assetSet{byName: map[string]*asset{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		set.byName[e.Name()] = &asset{hash: hex.EncodeToString(sum[:8]), body: body, contentType: ct}
	}
	return set, nil
}

// url returns the content-hashed path of a static file. An unknown name is a
// template bug, so it fails the render (and the start-up check) loudly.
func (a *assetSet) url(name string) (string, error) {
	f, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return "/static/" + f.hash + "/" + name, nil
}

// handleAsset serves a static file whose hash matches; an old hash gets 404
// rather than new content under an old, cached URL.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	f, ok := s.assets.byName[r.PathValue("name")]
	if !ok || f.hash != r.PathValue("hash") {
		http.NotFound(w, r)
		return
	}
	etag := `"` + f.hash + `"`
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
	w.Write(f.body)
}
