package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
)

// maxRequestIDLen bounds an incoming X-Request-Id we agree to reuse.
const maxRequestIDLen = 128

// requestInfo is the request-scoped record the middleware shares: the
// request id, and the client once the token check has identified it.
type requestInfo struct {
	id       string
	clientID string // set by requireToken and POST /token; read by accessLog
	account  string // set by requireToken
	project  string // set by requireToken
	// signed and failed count the documents of POST /sign-documents,
	// set by its handler.
	signed, failed int
	documents      bool
}

// noteDocuments records, for the request's access-log line, how many
// documents were signed and how many failed.
func noteDocuments(ctx context.Context, signed, failed int) {
	if in := info(ctx); in != nil {
		in.signed, in.failed, in.documents = signed, failed, true
	}
}

type requestInfoKey struct{}

// RequestID returns the id of the request ctx belongs to (the X-Request-Id
// of its response), or "" outside a request.
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

func info(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// saneRequestID reports whether an incoming X-Request-Id may be reused:
// 1 to 128 characters among letters, digits and "-_.:".
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '-', r == '_', r == '.', r == ':':
		default:
			return false
		}
	}
	return true
}

// withRequestID gives every request an id, the caller's X-Request-Id when
// it is sane or a new UUID, and sets it on the response before anything
// else is written.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestInfoKey{}, &requestInfo{id: id})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog writes one Info line per request.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		attrs := []slog.Attr{
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote_addr", r.RemoteAddr),
		}
		if in := info(r.Context()); in != nil {
			if in.clientID != "" {
				attrs = append(attrs, slog.String("client_id", in.clientID))
			}
			if in.account != "" {
				attrs = append(attrs, slog.String("account", in.account), slog.String("project", in.project))
			}
			if in.documents {
				attrs = append(attrs, slog.Int("documents", in.signed+in.failed),
					slog.Int("documents_signed", in.signed), slog.Int("documents_failed", in.failed))
			}
		}
		attrs = append(attrs, slog.String("outcome", outcome(rec.status)))
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// recoverPanics turns a handler panic into a logged 500, unless the
// response had already started.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("err", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			writeError(w, http.StatusInternalServerError, msgInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// allow answers 405 with an Allow header for methods not listed.
func allow(next http.Handler, methods ...string) http.Handler {
	allowed := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if r.Method == m {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Allow", allowed)
		writeError(w, http.StatusMethodNotAllowed, msgMethodNotAllowed)
	})
}

// outcome names a response status for the access log.
func outcome(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return "refused"
	case status < 500:
		return "client_error"
	}
	return "fault"
}
