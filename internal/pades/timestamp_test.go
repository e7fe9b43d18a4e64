package pades_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"sello/internal/cms"
	"sello/internal/pades"
	"sello/internal/tsa"
	"sello/internal/tsa/tsatest"
)

func mustTSAClient(t *testing.T, srv *tsatest.Server) *tsa.Client {
	t.Helper()
	c, err := tsa.New(tsa.Options{URL: srv.URL, Roots: srv.Roots()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSignTimestamped makes a B-T signature with a real RFC 3161 responder
// on loopback: the token covers the signature value and the signature stays
// intact.
func TestSignTimestamped(t *testing.T) {
	t.Parallel()
	orig := mustRead(t, "minimal.pdf")
	srv := tsatest.NewServer(t, tsatest.Options{})
	signed := mustSign(t, orig, pades.Options{
		Key: goldenKey(t), Name: "José Núñez", Time: goldenTime,
		Rect:        &pades.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150},
		Timestamper: mustTSAClient(t, srv),
	})
	sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
	if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
		t.Fatalf("Verify = %+v, %v; want one intact signature", sigs, err)
	}
	if sigs[0].Timestamped.IsZero() {
		t.Error("Verify does not report the signature time-stamp")
	}
	der := contentsOf(t, signed, sigs[0].ByteRange)
	sd, err := cms.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Timestamp == nil {
		t.Fatal("the CMS has no signature time-stamp token")
	}
	if err := sd.VerifyTimestamp(); err != nil {
		t.Fatalf("VerifyTimestamp: %v", err)
	}
}

func TestSignTimestampFailures(t *testing.T) {
	t.Parallel()
	orig := mustRead(t, "minimal.pdf")
	for _, tc := range []struct {
		name    string
		fault   tsatest.Fault
		reserve int
		want    error
	}{
		{"tsa-refuses", tsatest.FaultReject, 0, pades.ErrTimestampUnavailable},
		{"tsa-http-error", tsatest.FaultHTTPError, 0, pades.ErrTimestampUnavailable},
		{"wrong-imprint", tsatest.FaultWrongImprint, 0, pades.ErrTimestampUnavailable},
		{"reserve-too-small", tsatest.FaultNone, 16, pades.ErrTimestampTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tsatest.NewServer(t, tsatest.Options{Fault: tc.fault})
			_, err := pades.Sign(t.Context(), bytes.NewReader(orig), int64(len(orig)), pades.Options{
				Key: goldenKey(t), Name: "X", Time: goldenTime,
				Timestamper: mustTSAClient(t, srv), TimestampReserve: tc.reserve,
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Sign = %v, want %v", err, tc.want)
			}
		})
	}
}

// contentsOf returns the bytes of the /Contents gap of br: the DER
// signature followed by its zero padding, which cms.Parse accepts.
func contentsOf(t *testing.T, signed []byte, br [4]int64) []byte {
	t.Helper()
	der, err := hex.DecodeString(string(signed[br[1]+1 : br[2]-1]))
	if err != nil {
		t.Fatalf("/Contents: %v", err)
	}
	return der
}
