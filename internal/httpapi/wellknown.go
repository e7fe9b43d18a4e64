package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
)

// discovery is the OpenID Provider metadata document (OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2) for the client_credentials service.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// discoveryHandler serves the metadata built from the issuer URL.
func discoveryHandler(issuer string) http.Handler {
	base := strings.TrimRight(issuer, "/")
	doc := discovery{
		Issuer:                            issuer,
		TokenEndpoint:                     base + "/token",
		JWKSURI:                           base + "/.well-known/jwks.json",
		GrantTypesSupported:               []string{"client_credentials"},
		ResponseTypesSupported:            []string{"token"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"ES256"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		writeJSON(w, http.StatusOK, doc)
	})
}

// jwksHandler serves the keys that verify the service's tokens. Verifiers
// may cache them briefly and must refetch on an unknown kid.
func jwksHandler(a Authenticator, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwks, err := a.JWKS(r.Context())
		if err != nil {
			respondError(w, r, log, err, msgInternal)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, jwks)
	})
}
