package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"sello/internal/auth"
)

// Wire texts of request-level errors (DESIGN.md §1). Each lives here once;
// the specification fixes the token ones, the others are ours and are not
// reworded.
const (
	msgInvalidCredentials = "Invalid credentials."
	msgInvalidToken       = "Token not provided or invalid."
	msgTokenExpired       = "Token expired."
	msgAccountMissing     = "Missing x-account-id header."
	msgAccountMismatch    = "The token was not issued for this x-account-id."
	msgProjectMissing     = "Missing x-project-id header."
	msgProjectMismatch    = "The token was not issued for this x-project-id."
	msgRateLimited        = "Too many failed attempts. Try again later."
	msgNoLocalTokens      = "This service does not issue tokens: get one from the configured identity provider."
	msgNotFound           = "Not found."
	msgMethodNotAllowed   = "Method not allowed."
	msgUnavailable        = "Service unavailable."
	msgInternal           = "Internal server error."
)

// Bearer challenges (RFC 6750 §3).
const (
	challengeInvalid = `Bearer realm="sello", error="invalid_token"`
	challengeExpired = `Bearer realm="sello", error="invalid_token", error_description="The access token expired"`
	challengeScope   = `Bearer realm="sello", error="insufficient_scope"`
)

// requestError is a malformed request with a precise text of our own.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// errorResponse is one row of the error table.
type errorResponse struct {
	match     func(error) bool
	status    int
	msg       string // "" for requestError, which carries its own
	challenge string // WWW-Authenticate value, if any
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func as[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// errorResponses maps request-level errors of the token endpoint and the
// token check to a status and text. The first match wins; no match is a
// fault of the service.
var errorResponses = []errorResponse{
	{match: is(auth.ErrInvalidCredentials), status: http.StatusBadRequest, msg: msgInvalidCredentials},
	{match: as[*auth.RateLimitError], status: http.StatusTooManyRequests, msg: msgRateLimited},
	{match: is(auth.ErrNoLocalTokens), status: http.StatusBadRequest, msg: msgNoLocalTokens},
	{match: is(auth.ErrTokenExpired), status: http.StatusForbidden, msg: msgTokenExpired, challenge: challengeExpired},
	{match: is(auth.ErrInvalidToken), status: http.StatusUnauthorized, msg: msgInvalidToken, challenge: challengeInvalid},
	{match: is(auth.ErrAccountMissing), status: http.StatusForbidden, msg: msgAccountMissing, challenge: challengeScope},
	{match: is(auth.ErrAccountMismatch), status: http.StatusForbidden, msg: msgAccountMismatch, challenge: challengeScope},
	{match: is(auth.ErrProjectMissing), status: http.StatusForbidden, msg: msgProjectMissing, challenge: challengeScope},
	{match: is(auth.ErrProjectMismatch), status: http.StatusForbidden, msg: msgProjectMismatch, challenge: challengeScope},
	{match: as[*requestError]},
}

// respondError writes the response for err: its row of errorResponses, or
// for a service fault a logged 500 with faultMsg and the request id.
func respondError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, faultMsg string) {
	for _, row := range errorResponses {
		if !row.match(err) {
			continue
		}
		status, msg := row.status, row.msg
		if re := (*requestError)(nil); errors.As(err, &re) {
			status, msg = re.status, re.msg
		}
		if row.challenge != "" {
			w.Header().Set("WWW-Authenticate", row.challenge)
		}
		if rl := (*auth.RateLimitError)(nil); errors.As(err, &rl) {
			secs := int64(math.Ceil(rl.RetryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
		}
		writeError(w, status, msg)
		return
	}
	log.LogAttrs(r.Context(), slog.LevelError, "service fault",
		slog.String("request_id", RequestID(r.Context())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("err", err.Error()))
	writeError(w, http.StatusInternalServerError, faultMsg)
}

// writeError writes {"error": msg} with the status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

// writeJSON writes v as a JSON body with the status. Responses carry
// credentials or per-request results, so none may be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed types reach here; failing to encode one is
		// a programmer error.
		panic("httpapi: encode response: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
