package pkitest

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func TestRevocationServer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ca := NewCA(t, Options{})
	rs := ca.StartRevocation(t, func() time.Time { return now })
	inter := ca.NewIntermediate(t, Options{})
	good := ca.Issue(t, Options{CommonName: "Good"}).Chain[0]
	bad := ca.Issue(t, Options{CommonName: "Bad"}).Chain[0]
	foreign := inter.Issue(t, Options{CommonName: "Foreign"}).Chain[0]
	ca.Revoke(bad, now.Add(-time.Hour), ocsp.KeyCompromise)

	if len(good.OCSPServer) != 1 || good.OCSPServer[0] != rs.OCSPURL || len(good.CRLDistributionPoints) != 1 {
		t.Fatalf("leaf URLs = %v %v, want the server's", good.OCSPServer, good.CRLDistributionPoints)
	}
	if inter.Certificate().OCSPServer[0] != rs.OCSPURL {
		t.Errorf("intermediate OCSP URL = %v, want the server's", inter.Certificate().OCSPServer)
	}

	tests := []struct {
		name   string
		cert   *x509.Certificate
		issuer *x509.Certificate
		get    bool
		want   int
	}{
		{"good by POST", good, ca.Certificate(), false, ocsp.Good},
		{"good by GET", good, ca.Certificate(), true, ocsp.Good},
		{"revoked", bad, ca.Certificate(), false, ocsp.Revoked},
		{"other issuer", foreign, inter.Certificate(), false, ocsp.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := ocsp.CreateRequest(tc.cert, tc.issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			var resp *http.Response
			if tc.get {
				resp, err = http.Get(rs.OCSPURL + "/" + base64.StdEncoding.EncodeToString(req))
			} else {
				resp, err = http.Post(rs.OCSPURL, "application/ocsp-request", bytes.NewReader(req))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			// The responder is the CA itself, so the issuer verifies it.
			r, err := ocsp.ParseResponse(body, ca.Certificate())
			if err != nil {
				t.Fatalf("ParseResponse() = %v", err)
			}
			if r.Status != tc.want || r.SerialNumber.Cmp(tc.cert.SerialNumber) != 0 || !r.ThisUpdate.Equal(now) {
				t.Errorf("status %d serial %v thisUpdate %v, want %d %v %v", r.Status, r.SerialNumber, r.ThisUpdate, tc.want, tc.cert.SerialNumber, now)
			}
		})
	}

	t.Run("CRL", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(rs.CRLURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		der, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatalf("ParseRevocationList() = %v", err)
		}
		if err := crl.CheckSignatureFrom(ca.Certificate()); err != nil {
			t.Errorf("CheckSignatureFrom() = %v", err)
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(bad.SerialNumber) != 0 {
			t.Errorf("revoked entries = %v, want the bad certificate only", crl.RevokedCertificateEntries)
		}
	})
}
