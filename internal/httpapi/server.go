// Package httpapi is Sello's HTTP interface: the routes of DESIGN.md §1,
// their middleware (request ids, access log, panic recovery, the bearer
// token check) and the mapping of request-level errors to a status and the
// single JSON error text of the wire contract.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"sello/internal/auth"
)

// Authenticator is what the HTTP layer needs from the token service;
// *auth.Service implements it.
type Authenticator interface {
	// Issue checks client credentials and returns a new access token.
	Issue(ctx context.Context, cr auth.Credentials) (*auth.Token, error)
	// Authorize checks a bearer token for an account and project.
	Authorize(ctx context.Context, token, account, project string) (*auth.Principal, error)
	// JWKS returns the public keys that verify the tokens.
	JWKS(ctx context.Context) (auth.JWKS, error)
}

var _ Authenticator = (*auth.Service)(nil)

// Options configure a Server. Auth and Issuer are required.
type Options struct {
	// Logger receives one line per request and every service fault;
	// default: discard.
	Logger *slog.Logger
	// Auth issues tokens at POST /token and checks them on protected
	// routes.
	Auth Authenticator
	// Issuer is the base URL the service is reached at, as it appears in
	// the tokens' iss claim; the discovery document is built from it.
	Issuer string
	// SignDocuments is mounted behind the token check at POST
	// /sign-documents; nil answers 503.
	SignDocuments http.Handler
	// MaxTokenBodyBytes caps the body of POST /token; default 64 KiB.
	MaxTokenBodyBytes int64
	// Metrics, when not nil, counts every route's requests and the tokens
	// issued and refused.
	Metrics *Metrics
	// MetricsHandler, when not nil, is served at GET /metrics (for
	// instance MetricsHandler(registry)).
	MetricsHandler http.Handler
	// Ready lists what GET /readyz checks: the store, the key store and,
	// when configured, the time-stamping authority.
	Ready []ReadyCheck
	// ReadyTimeout bounds each readiness check; default 2 s.
	ReadyTimeout time.Duration
}

// ReadyCheck is one dependency GET /readyz checks. Check returns nil when
// the dependency can serve.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// msgShuttingDown is the error text of the 503 answered while the service
// shuts down.
const msgShuttingDown = "The service is shutting down; retry on another node or later."

// defaultMaxTokenBody is the default cap on the body of POST /token.
const defaultMaxTokenBody = 64 << 10

// Server is the service's http.Handler, with every route. It is safe for
// concurrent use.
type Server struct {
	handler  http.Handler
	draining atomic.Bool
}

// New returns a Server serving these routes:
//
//	POST /token                              client_credentials grant (form or Basic)
//	POST /sign-documents                     Options.SignDocuments, behind the token check
//	GET  /.well-known/openid-configuration   discovery document
//	GET  /.well-known/jwks.json              token-verification keys
//	GET  /healthz                            liveness
//	GET  /readyz                             readiness: every Options.Ready check
//	GET  /metrics                            Options.MetricsHandler, when set
//	GET  /openapi.json                       the OpenAPI 3.1 description
//	GET  /docs                               the API reference page
//
// Anything else is a JSON 404, or 405 for a known path with another method.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil {
		return nil, errors.New("httpapi: Options.Auth is required")
	}
	if opts.Issuer == "" {
		return nil, errors.New("httpapi: Options.Issuer is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxBody := opts.MaxTokenBodyBytes
	if maxBody <= 0 {
		maxBody = defaultMaxTokenBody
	}
	sign := opts.SignDocuments
	if sign == nil {
		sign = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusServiceUnavailable, msgUnavailable)
		})
	}

	m := opts.Metrics
	mux := http.NewServeMux()
	route := func(pattern string, h http.Handler, methods ...string) {
		mux.Handle(pattern, m.Middleware(pattern, allow(h, methods...)))
	}
	route("/token", &tokenHandler{auth: opts.Auth, log: log, maxBody: maxBody, metrics: m}, http.MethodPost)
	route("/sign-documents", requireToken(opts.Auth, log, msgSignFault, sign), http.MethodPost)
	route("/.well-known/openid-configuration", discoveryHandler(opts.Issuer), http.MethodGet, http.MethodHead)
	route("/.well-known/jwks.json", jwksHandler(opts.Auth, log), http.MethodGet, http.MethodHead)
	route("/healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}), http.MethodGet, http.MethodHead)
	route("/readyz", readyHandler(opts.Ready, opts.ReadyTimeout, log), http.MethodGet, http.MethodHead)
	route("/openapi.json", OpenAPIHandler(), http.MethodGet, http.MethodHead)
	route("/docs", DocsHandler(), http.MethodGet, http.MethodHead)
	if opts.MetricsHandler != nil {
		mux.Handle("/metrics", allow(opts.MetricsHandler, http.MethodGet, http.MethodHead))
	}
	mux.Handle("/", m.Middleware("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, msgNotFound)
	})))

	s := &Server{}
	s.handler = withRequestID(accessLog(log, s.refuseWhileDraining(recoverPanics(log, mux))))
	return s, nil
}

// Drain makes the server answer every new request with 503 and
// Retry-After, while requests already running finish; call it when a
// graceful shutdown starts. It is safe for concurrent use.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) refuseWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusServiceUnavailable, msgShuttingDown)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readyHandler answers 200 {"status": "ready"} when every check passes,
// else 503 naming the failing dependencies; details go to the log.
func readyHandler(checks []ReadyCheck, timeout time.Duration, log *slog.Logger) http.Handler {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var failed []string
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			err := c.Check(ctx)
			cancel()
			if err != nil {
				failed = append(failed, c.Name)
				log.Warn("not ready", slog.String("request_id", RequestID(r.Context())), slog.String("check", c.Name), slog.String("err", err.Error()))
			}
		}
		if len(failed) > 0 {
			writeError(w, http.StatusServiceUnavailable, "Not ready: "+strings.Join(failed, ", ")+" unavailable.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}
