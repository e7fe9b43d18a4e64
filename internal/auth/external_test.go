package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeExternal accepts one token string and records the calls.
type fakeExternal struct {
	issuer, accept string
	calls          int
}

func (f *fakeExternal) Issuer() string { return f.issuer }

func (f *fakeExternal) Verify(ctx context.Context, raw string) (*Claims, error) {
	f.calls++
	if raw != f.accept {
		return nil, ErrInvalidToken
	}
	return &Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "ext-client", ID: "ext-jti"}, Account: "ACME", Projects: []string{"payroll"}}, nil
}

// unsignedToken returns a token naming iss, signed with a throwaway HMAC
// key: only the external issuer's Verify decides about it.
func unsignedToken(t *testing.T, iss string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": iss, "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExternalIssuers(t *testing.T) {
	t.Parallel()
	extTok := unsignedToken(t, "https://idp.test")
	for _, noLocal := range []bool{false, true} {
		name := "as well as ours"
		if noLocal {
			name = "instead of ours"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ext := &fakeExternal{issuer: "https://idp.test", accept: extTok}
			f := newFixture(t, func(o *Options) { o.External = []ExternalIssuer{ext}; o.NoLocalTokens = noLocal })
			p, err := f.svc.Authorize(t.Context(), extTok, "ACME", "payroll")
			if err != nil || p.ClientID != "ext-client" {
				t.Errorf("Authorize(external token) = %+v, %v; want client ext-client", p, err)
			}
			if _, err := f.svc.Verify(t.Context(), unsignedToken(t, "https://unknown.test")); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify(unknown issuer) = %v, want ErrInvalidToken", err)
			}
			_, err = f.svc.Issue(t.Context(), Credentials{ClientID: f.client.ID, Secret: f.secret})
			if noLocal && !errors.Is(err, ErrNoLocalTokens) {
				t.Errorf("Issue with NoLocalTokens = %v, want ErrNoLocalTokens", err)
			}
			if !noLocal && err != nil {
				t.Errorf("Issue = %v", err)
			}
		})
	}
	t.Run("our own tokens refused when external only", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		tok := f.mustIssue(t)
		svc, err := New(Options{Clients: f.store, Keys: f.store, MasterKey: testMaster, Issuer: testIssuer, Hash: testHashParams,
			Now: f.clock.Now, External: []ExternalIssuer{&fakeExternal{issuer: "https://idp.test"}}, NoLocalTokens: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Verify(t.Context(), tok.AccessToken); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(own token, external only) = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("configuration errors", func(t *testing.T) {
		t.Parallel()
		store := newMemStore()
		if _, err := New(Options{Clients: store, Keys: store, MasterKey: testMaster, Issuer: testIssuer, NoLocalTokens: true}); err == nil {
			t.Errorf("New(NoLocalTokens without external issuers) = nil error")
		}
		if _, err := New(Options{Clients: store, Keys: store, MasterKey: testMaster, Issuer: testIssuer,
			External: []ExternalIssuer{&fakeExternal{issuer: testIssuer}}}); err == nil {
			t.Errorf("New(external issuer = own issuer) = nil error")
		}
	})
}
