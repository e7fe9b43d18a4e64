package httpapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"sello/internal/auth"
)

// tokenHandler answers POST /token, the client_credentials grant of
// RFC 6749 §4.4, with the client authenticated by form fields or HTTP Basic
// (§2.3.1).
type tokenHandler struct {
	auth    Authenticator
	log     *slog.Logger
	maxBody int64
	metrics *Metrics // may be nil
}

// tokenResponse is the 200 body (RFC 6749 §5.1, and the specification).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func badTokenRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func (h *tokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Pragma", "no-cache")
	cr, err := h.credentials(w, r)
	if err != nil {
		h.metrics.TokenRefused(refusal(err))
		respondError(w, r, h.log, err, msgInternal)
		return
	}
	tok, err := h.auth.Issue(r.Context(), *cr)
	if err != nil {
		h.metrics.TokenRefused(refusal(err))
		respondError(w, r, h.log, err, msgInternal)
		return
	}
	h.metrics.TokenIssued()
	if in := info(r.Context()); in != nil {
		in.clientID = cr.ClientID
	}
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: tok.AccessToken,
		TokenType:   tok.TokenType,
		ExpiresIn:   int64(tok.ExpiresIn.Seconds()),
	})
}

// credentials reads and checks the token request, returning a
// *requestError with a precise text for anything malformed.
func (h *tokenHandler) credentials(w http.ResponseWriter, r *http.Request) (*auth.Credentials, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, badTokenRequest("Missing Content-Type: use application/x-www-form-urlencoded.")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, badTokenRequest("Unsupported Content-Type: use application/x-www-form-urlencoded.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge,
				msg: fmt.Sprintf("Request body too large: the limit is %d bytes.", h.maxBody)}
		}
		return nil, badTokenRequest("Could not read the request body.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badTokenRequest("Malformed form body.")
	}
	// RFC 6749 §3.2: parameters must not be repeated.
	for name, vs := range form {
		if len(vs) > 1 {
			return nil, badTokenRequest("Repeated parameter: %s.", name)
		}
	}

	cr := &auth.Credentials{RemoteAddr: remoteHost(r)}
	if authz := r.Header.Get("Authorization"); authz != "" {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return nil, badTokenRequest("Malformed Authorization header: use Basic client authentication.")
		}
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		if cr.ClientID, err = url.QueryUnescape(id); err != nil {
			return nil, badTokenRequest("Malformed Authorization header: client id is not form-urlencoded.")
		}
		if cr.Secret, err = url.QueryUnescape(secret); err != nil {
			return nil, badTokenRequest("Malformed Authorization header: client secret is not form-urlencoded.")
		}
		// RFC 6749 §2.3: one authentication method per request.
		if form.Has("client_secret") {
			return nil, badTokenRequest("Use one client authentication method: Basic or form fields, not both.")
		}
		if form.Has("client_id") && form.Get("client_id") != cr.ClientID {
			return nil, badTokenRequest("The client_id field does not match the Authorization header.")
		}
	} else {
		cr.ClientID, cr.Secret = form.Get("client_id"), form.Get("client_secret")
		if cr.ClientID == "" {
			return nil, badTokenRequest("Missing client_id.")
		}
		if cr.Secret == "" {
			return nil, badTokenRequest("Missing client_secret.")
		}
	}
	if cr.ClientID == "" || cr.Secret == "" {
		return nil, badTokenRequest("Missing client_id or client_secret in the Authorization header.")
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return nil, badTokenRequest("Missing grant_type.")
	default:
		return nil, badTokenRequest("Unsupported grant_type: only client_credentials is accepted.")
	}
	return cr, nil
}

// refusal names why a token request was refused, from a fixed set of
// metric labels.
func refusal(err error) string {
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return "invalid_client"
	case as[*auth.RateLimitError](err):
		return "rate_limited"
	case as[*requestError](err), errors.Is(err, auth.ErrNoLocalTokens):
		return "invalid_request"
	}
	return "error"
}

// remoteHost returns the host part of the request's peer address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return strings.TrimSpace(host)
}
