package snowsim

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
)

// The transport of the REST APIs as real instances speak it: request bodies
// compressed with gzip or deflate are read, answers are gzipped for clients
// that accept it, HEAD is answered like GET without a body, and every
// answer carries the headers a real instance sends. A capture of a real
// Table API answer (the README of the ServiceNow npm client, headers of a
// GET /api/now/table): pragma "no-store,no-cache", cache-control
// "no-cache,no-store,must-revalidate,max-age=-1", expires "0",
// x-is-logged-in "true", content-type "application/json;charset=UTF-8".
// Connector specs of the Table API add X-Transaction-ID, Server-Timing,
// X-Content-Type-Options and Set-Cookie.

// transport wraps the REST APIs (paths under /api/).
func (in *Instance) transport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache,no-store,must-revalidate,max-age=-1")
		h.Set("Pragma", "no-store,no-cache")
		h.Set("Expires", "0")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Transaction-ID", transactionID())
		if _, err := r.Cookie("JSESSIONID"); err != nil {
			// The session cookie a client may send back; the REST APIs
			// authenticate every request anyway.
			h.Add("Set-Cookie", (&http.Cookie{Name: "JSESSIONID", Value: strings.ToUpper(transactionID()) + strings.ToUpper(transactionID()),
				Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteNoneMode}).String())
		}
		if aerr := decodeBody(r); aerr != nil {
			writeError(w, aerr)
			return
		}
		if r.Method == http.MethodHead {
			// HEAD answers what GET would, headers only.
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
			w = &headWriter{ResponseWriter: w}
		} else if acceptsGzip(r) {
			gz := &gzipWriter{ResponseWriter: w}
			defer gz.finish()
			w = gz
		}
		next.ServeHTTP(w, r)
	})
}

// transactionID is a 32-hex-digit id like the platform's transaction ids.
func transactionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeBody replaces a compressed request body by its decompressed
// content; the payload limit applies to what it decompresses to.
func decodeBody(r *http.Request) *APIError {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		return nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return errBadJSON("The request body is not valid gzip: " + err.Error())
		}
		r.Body = readCloser{zr, r.Body}
	case "deflate":
		// HTTP's deflate is zlib-wrapped (RFC 9110 8.4.1.2); some clients
		// send raw deflate, which is read as well.
		r.Body = readCloser{newDeflateReader(r.Body), r.Body}
	default:
		return &APIError{Status: http.StatusUnsupportedMediaType, Message: "Unsupported Media Type",
			Detail: "Content-Encoding " + enc + " is not supported; send gzip, deflate or none"}
	}
	r.Header.Del("Content-Encoding")
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	return nil
}

type readCloser struct {
	io.Reader
	orig io.Closer
}

func (rc readCloser) Close() error { return rc.orig.Close() }

// newDeflateReader reads zlib-wrapped deflate, or raw deflate when the
// stream has no zlib header.
func newDeflateReader(body io.Reader) io.Reader {
	var head [2]byte
	n, _ := io.ReadFull(body, head[:])
	rest := io.MultiReader(strings.NewReader(string(head[:n])), body)
	if n == 2 && head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
		if zr, err := zlib.NewReader(rest); err == nil {
			return zr
		}
	}
	return flate.NewReader(rest)
}

// acceptsGzip reports whether Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") || strings.TrimSpace(name) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// headWriter drops the body of a HEAD answer.
type headWriter struct{ http.ResponseWriter }

func (h *headWriter) Write(b []byte) (int, error) { return len(b), nil }

// gzipWriter compresses an answer that has a body.
type gzipWriter struct {
	http.ResponseWriter
	zw      *gzip.Writer
	started bool
}

func (g *gzipWriter) WriteHeader(status int) {
	if g.started {
		return
	}
	g.started = true
	h := g.Header()
	h.Add("Vary", "Accept-Encoding")
	if status != http.StatusNoContent && status != http.StatusNotModified && h.Get("Content-Encoding") == "" {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		g.zw = gzip.NewWriter(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	if g.zw == nil {
		return g.ResponseWriter.Write(b)
	}
	return g.zw.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the fault
// injector drops answers through it).
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
func (h *headWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (g *gzipWriter) finish() {
	if g.zw != nil {
		_ = g.zw.Close()
	}
}
