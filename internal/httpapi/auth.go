package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"sello/internal/auth"
)

// requireToken checks the bearer token and the x-account-id and
// x-project-id headers (DESIGN.md §1) before next runs, and before the
// request body is read, and puts the caller's auth.Principal in the
// request context. A fault of the service while checking (store down)
// answers 500 with faultMsg, the route's own text.
func requireToken(a Authenticator, log *slog.Logger, faultMsg string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			respondError(w, r, log, auth.ErrInvalidToken, faultMsg)
			return
		}
		p, err := a.Authorize(r.Context(), token, r.Header.Get("X-Account-Id"), r.Header.Get("X-Project-Id"))
		if err != nil {
			respondError(w, r, log, err, faultMsg)
			return
		}
		if in := info(r.Context()); in != nil {
			in.clientID, in.account, in.project = p.ClientID, p.Account, p.Project
		}
		next.ServeHTTP(w, r.WithContext(auth.WithClient(r.Context(), p)))
	})
}

// bearerToken returns the token of an "Authorization: Bearer" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	vs := r.Header.Values("Authorization")
	if len(vs) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(vs[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
