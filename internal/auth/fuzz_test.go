package auth

import (
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzParseToken feeds arbitrary strings to Verify. Properties: it never
// panics; it returns either claims or one of its documented errors; and
// whatever it accepts carries exactly the claims of a token we issued (the
// signature covers them, so no mutation can change them).
func FuzzParseToken(f *testing.F) {
	fx := newFixture(f, nil)
	tok, err := fx.svc.Issue(f.Context(), Credentials{ClientID: fx.client.ID, Secret: fx.secret})
	if err != nil {
		f.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": fx.client.ID, "account": "ACME"})
	noneStr, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		tok.AccessToken, noneStr, "", ".", "..", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.",
		tok.AccessToken + "=", tok.AccessToken[:len(tok.AccessToken)-2],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := fx.svc.Verify(t.Context(), raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("Verify(%q) = %v, want ErrInvalidToken or ErrTokenExpired", raw, err)
			}
			return
		}
		if claims.ID != tok.ID || claims.Subject != fx.client.ID || claims.Account != "ACME" {
			t.Fatalf("Verify(%q) accepted claims %+v that we did not issue", raw, claims)
		}
	})
}
