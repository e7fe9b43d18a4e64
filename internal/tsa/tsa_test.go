package tsa_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"sello/internal/cms"
	"sello/internal/pkitest"
	"sello/internal/tsa"
	"sello/internal/tsa/tsatest"
)

func mustClient(t *testing.T, opts tsa.Options) *tsa.Client {
	t.Helper()
	c, err := tsa.New(opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return c
}

func digestOf(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 21, 30, 0, 0, time.UTC)
	for _, kt := range pkitest.KeyTypes() {
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			t.Run(kt.String()+"/"+h.String(), func(t *testing.T) {
				t.Parallel()
				srv := tsatest.NewServer(t, tsatest.Options{KeyType: kt, Now: func() time.Time { return now }, Accuracy: time.Second})
				c := mustClient(t, tsa.Options{URL: srv.URL, Roots: srv.Roots(), Policy: tsatest.DefaultPolicy})
				digest := digestOf(h, []byte("signature value"))
				token, err := c.Timestamp(t.Context(), digest, h)
				if err != nil {
					t.Fatalf("Timestamp() = %v", err)
				}
				sd, err := cms.Parse(token)
				if err != nil {
					t.Fatalf("cms.Parse(token) = %v", err)
				}
				info, err := cms.ParseTSTInfo(sd.Content)
				if err != nil {
					t.Fatal(err)
				}
				if !info.GenTime.Equal(now) || !bytes.Equal(info.HashedMessage, digest) || info.HashAlgorithm != h {
					t.Errorf("TSTInfo = %+v, want genTime %v and the digest", info, now)
				}
				opensslVerifyToken(t, token, digest, srv.CA.Certificate())
			})
		}
	}
}

// opensslVerifyToken checks a token with an independent RFC 3161
// implementation.
func opensslVerifyToken(t *testing.T, token, digest []byte, root *x509.Certificate) {
	t.Helper()
	tok := pkitest.TempFile(t, "token.der", token)
	ca := pkitest.TempFile(t, "root.pem", pkitest.ChainPEM([]*x509.Certificate{root}))
	pkitest.OpenSSL(t, "ts", "-verify", "-digest", hex.EncodeToString(digest), "-in", tok, "-token_in", "-CAfile", ca)
}

func TestTimestampFaults(t *testing.T) {
	t.Parallel()
	other := pkitest.NewCA(t, pkitest.Options{CommonName: "Unrelated Root"})
	tests := []struct {
		name   string
		fault  tsatest.Fault
		roots  func(*tsatest.Server) *x509.CertPool
		policy []int
		want   error
	}{
		{name: "rejection", fault: tsatest.FaultReject, want: tsa.ErrUnavailable},
		{name: "HTTP error", fault: tsatest.FaultHTTPError, want: tsa.ErrUnavailable},
		{name: "wrong nonce", fault: tsatest.FaultWrongNonce, want: tsa.ErrInvalidToken},
		{name: "wrong imprint", fault: tsatest.FaultWrongImprint, want: tsa.ErrInvalidToken},
		{name: "bad signature", fault: tsatest.FaultBadSignature, want: tsa.ErrInvalidToken},
		{name: "garbage", fault: tsatest.FaultGarbage, want: tsa.ErrInvalidToken},
		{name: "untrusted TSA", roots: func(*tsatest.Server) *x509.CertPool { return other.Pool() }, want: tsa.ErrInvalidToken},
		{name: "unknown policy", policy: []int{2, 999, 1}, want: tsa.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tsatest.NewServer(t, tsatest.Options{Fault: tc.fault})
			opts := tsa.Options{URL: srv.URL, Policy: tc.policy}
			if tc.roots != nil {
				opts.Roots = tc.roots(srv)
			}
			_, err := mustClient(t, opts).Timestamp(t.Context(), digestOf(crypto.SHA256, nil), crypto.SHA256)
			if !errors.Is(err, tc.want) {
				t.Errorf("Timestamp() = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("status error", func(t *testing.T) {
		t.Parallel()
		srv := tsatest.NewServer(t, tsatest.Options{Fault: tsatest.FaultReject})
		_, err := mustClient(t, tsa.Options{URL: srv.URL}).Timestamp(t.Context(), digestOf(crypto.SHA256, nil), crypto.SHA256)
		var se *tsa.StatusError
		if !errors.As(err, &se) || se.Status != tsa.StatusRejection {
			t.Errorf("Timestamp() = %v, want a rejection *StatusError", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		srv := tsatest.NewServer(t, tsatest.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := mustClient(t, tsa.Options{URL: srv.URL}).Timestamp(ctx, digestOf(crypto.SHA256, nil), crypto.SHA256)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, tsa.ErrUnavailable) {
			t.Errorf("Timestamp() = %v, want context.Canceled and ErrUnavailable", err)
		}
		if n := srv.Requests(); n != 0 {
			t.Errorf("server saw %d requests, want 0", n)
		}
	})
}

func TestNewRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "ftp://tsa.test/", "/relative", "http://"} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			if _, err := tsa.New(tsa.Options{URL: u}); err == nil {
				t.Errorf("New(%q) = nil error", u)
			}
		})
	}
}

// TestSignatureTimestamp makes a B-T signature end to end: sign, time-stamp
// the signature value through HTTP, verify both.
func TestSignatureTimestamp(t *testing.T) {
	t.Parallel()
	srv := tsatest.NewServer(t, tsatest.Options{})
	c := mustClient(t, tsa.Options{URL: srv.URL, Roots: srv.Roots()})
	key := pkitest.NewCA(t, pkitest.Options{}).Issue(t, pkitest.Options{KeyType: pkitest.RSA2048})
	digest := digestOf(crypto.SHA256, []byte("document"))
	der, err := cms.Sign(digest, cms.SignOptions{Signer: key.Signer, Chain: key.Chain, PSS: true})
	if err != nil {
		t.Fatal(err)
	}
	bt, err := cms.AddTimestamp(t.Context(), der, crypto.SHA256, c.Timestamp)
	if err != nil {
		t.Fatalf("AddTimestamp() = %v", err)
	}
	sd, err := cms.Parse(bt)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.Verify(digest); err != nil {
		t.Errorf("Verify() = %v", err)
	}
	if err := sd.VerifyTimestamp(); err != nil {
		t.Errorf("VerifyTimestamp() = %v", err)
	}
	if sd.Timestamp == nil || sd.Timestamp.Info.SerialNumber.Cmp(big.NewInt(1)) != 0 {
		t.Errorf("Timestamp = %+v, want the server's first token", sd.Timestamp)
	}
}

func FuzzParseResponse(f *testing.F) {
	srvResp := &tsa.Response{Status: tsa.StatusRejection, StatusString: "no", FailInfo: 1 << 5}
	b, err := srvResp.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := tsa.ParseResponse(in)
		if err != nil {
			if !errors.Is(err, tsa.ErrMalformed) {
				t.Fatalf("ParseResponse() = %v, not ErrMalformed", err)
			}
			return
		}
		if r.Token != nil {
			cms.Parse(r.Token) // must not panic
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	req := &tsa.Request{Hash: crypto.SHA256, Digest: make([]byte, 32), Nonce: big.NewInt(99), Policy: []int{2, 999, 1}, CertReq: true}
	b, err := req.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := tsa.ParseRequest(in)
		if err != nil {
			if !errors.Is(err, tsa.ErrMalformed) {
				t.Fatalf("ParseRequest() = %v, not ErrMalformed", err)
			}
			return
		}
		if r.Hash != 0 && r.Hash != crypto.SHA1 && len(r.Digest) == r.Hash.Size() {
			again, err := r.Marshal()
			if err != nil {
				t.Fatalf("Marshal() of a parsed request = %v", err)
			}
			r2, err := tsa.ParseRequest(again)
			if err != nil || r2.Hash != r.Hash || !bytes.Equal(r2.Digest, r.Digest) {
				t.Fatalf("round trip = %+v, %v; want %+v", r2, err, r)
			}
		}
	})
}
