package httpapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// jwkSet is the JWKS as a verifier that knows only the RFCs reads it.
type jwkSet struct {
	Keys []struct {
		Kty, Crv, X, Y, Kid, Use, Alg string
	} `json:"keys"`
}

// verifyES256 checks a compact JWS against a JWKS with the standard
// library only (RFC 7515 §5.2, RFC 7518 §3.4), as another service would.
func verifyES256(t *testing.T, set jwkSet, token string) error {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errString("not a compact JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return err
	}
	var header struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &header); err != nil {
		return err
	}
	if header.Alg != "ES256" {
		return errString("alg " + header.Alg)
	}
	for _, k := range set.Keys {
		if k.Kid != header.Kid || k.Kty != "EC" || k.Crv != "P-256" {
			continue
		}
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if err1 != nil || err2 != nil {
			return errString("bad coordinates")
		}
		raw := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			return err
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || len(sig) != 64 {
			return errString("bad signature encoding")
		}
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub, digest[:], r, s) {
			return errString("signature does not verify")
		}
		return nil
	}
	return errString("kid " + header.Kid + " not in the JWKS")
}

type errString string

func (e errString) Error() string { return string(e) }

func TestDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	resp, body := env.do(t, http.MethodGet, "/.well-known/openid-configuration", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"issuer":         env.url,
		"token_endpoint": env.url + "/token",
		"jwks_uri":       env.url + "/.well-known/jwks.json",
	} {
		if doc[k] != want {
			t.Errorf("discovery %s = %v, want %s", k, doc[k], want)
		}
	}

	jwks := func() jwkSet {
		t.Helper()
		jwksURI := strings.TrimPrefix(doc["jwks_uri"].(string), env.url)
		resp, body := env.do(t, http.MethodGet, jwksURI, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("JWKS: %d %s", resp.StatusCode, body)
		}
		var set jwkSet
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		return set
	}
	old := env.mustFetchToken(t, env.client.ID, env.secret)
	if err := verifyES256(t, jwks(), old); err != nil {
		t.Fatalf("token does not verify with the published JWKS: %v", err)
	}

	// Key rotation: the new key signs once the server refreshes its keys,
	// and both tokens keep working and verifying.
	if _, err := env.admin.RotateKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(time.Minute)
	fresh := env.mustFetchToken(t, env.client.ID, env.secret)
	if strings.Split(fresh, ".")[0] == strings.Split(old, ".")[0] {
		t.Errorf("the header (kid) did not change after the rotation")
	}
	set := jwks()
	if len(set.Keys) != 2 {
		t.Errorf("JWKS after rotation has %d keys, want 2", len(set.Keys))
	}
	for name, tok := range map[string]string{"old": old, "fresh": fresh} {
		if err := verifyES256(t, set, tok); err != nil {
			t.Errorf("%s token: %v", name, err)
		}
		h := http.Header{"Authorization": {"Bearer " + tok}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"payroll"}}
		if resp, body := env.do(t, http.MethodPost, "/sign-documents", h, ""); resp.StatusCode != 200 {
			t.Errorf("%s token on the protected route: %d %s", name, resp.StatusCode, body)
		}
	}
}
