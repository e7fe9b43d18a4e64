package pkitest

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"hash"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// revocation is the revocation state of a CA.
type revocation struct {
	revoked   map[string]revokedCert // by serial number in decimal
	ocspURL   string
	crlURL    string
	crlNumber int64
}

type revokedCert struct {
	serial *big.Int
	at     time.Time
	reason int
}

// Revoke marks cert, issued by ca, as revoked at the given time with an
// RFC 5280 §5.3.1 reason code (ocsp.KeyCompromise, ...). Later CRLs and
// OCSP answers report it.
func (ca *CA) Revoke(cert *x509.Certificate, at time.Time, reason int) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.rev.revoked == nil {
		ca.rev.revoked = make(map[string]revokedCert)
	}
	ca.rev.revoked[cert.SerialNumber.String()] = revokedCert{serial: cert.SerialNumber, at: at, reason: reason}
}

// CRL returns a DER CRL (RFC 5280 §5) signed by ca, listing the revoked
// certificates, valid from now for a day. Each call has a new CRL number.
// It fails the test on error.
func (ca *CA) CRL(t testing.TB, now time.Time) []byte {
	t.Helper()
	ca.mu.Lock()
	ca.rev.crlNumber++
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(ca.rev.crlNumber),
		ThisUpdate: now,
		NextUpdate: now.Add(24 * time.Hour),
	}
	for _, r := range ca.rev.revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: r.serial, RevocationTime: r.at, ReasonCode: r.reason,
		})
	}
	ca.mu.Unlock()
	der, err := x509.CreateRevocationList(nil, tmpl, ca.cert, ca.signer)
	if err != nil {
		t.Fatalf("pkitest: create CRL: %v", err)
	}
	return der
}

// RevocationServer serves a CA's CRL and answers OCSP requests (RFC 6960)
// for the certificates it issued, on an httptest server. The CA signs the
// OCSP responses itself (RFC 6960 §4.2.2.2).
type RevocationServer struct {
	// OCSPURL and CRLURL are the endpoints; certificates the CA issues
	// after StartRevocation name them.
	OCSPURL, CRLURL string

	t   testing.TB
	ca  *CA
	now func() time.Time
	mu  sync.Mutex
	n   int
}

// StartRevocation starts a RevocationServer for ca, stopped when the test
// ends. now gives the responses' thisUpdate; nil means time.Now. Leaves
// issued afterwards carry the server's OCSP and CRL URLs unless their
// Options name others.
func (ca *CA) StartRevocation(t testing.TB, now func() time.Time) *RevocationServer {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	rs := &RevocationServer{t: t, ca: ca, now: now}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	rs.OCSPURL = srv.URL + "/ocsp"
	rs.CRLURL = srv.URL + "/crl"
	ca.mu.Lock()
	ca.rev.ocspURL, ca.rev.crlURL = rs.OCSPURL, rs.CRLURL
	ca.mu.Unlock()
	return rs
}

// Requests returns how many requests the server has answered.
func (rs *RevocationServer) Requests() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.n
}

// ServeHTTP answers GET /crl, and OCSP requests by POST /ocsp or GET
// /ocsp/{base64 request} (RFC 6960 appendix A.1).
func (rs *RevocationServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	rs.n++
	rs.mu.Unlock()
	switch {
	case r.URL.Path == "/crl" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(rs.ca.CRL(rs.t, rs.now()))
	case r.URL.Path == "/ocsp" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<14))
		if err != nil {
			http.Error(w, "read request", http.StatusBadRequest)
			return
		}
		rs.answerOCSP(w, body)
	case strings.HasPrefix(r.URL.Path, "/ocsp/") && r.Method == http.MethodGet:
		enc, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/ocsp/"))
		if err != nil {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		body, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			http.Error(w, "bad base64", http.StatusBadRequest)
			return
		}
		rs.answerOCSP(w, body)
	default:
		http.NotFound(w, r)
	}
}

func (rs *RevocationServer) answerOCSP(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	now := rs.now()
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(time.Hour),
	}
	if req.IssuerKeyHash == nil || !rs.issuedHere(req) {
		tmpl.Status = ocsp.Unknown
	} else {
		rs.ca.mu.Lock()
		r, ok := rs.ca.rev.revoked[req.SerialNumber.String()]
		rs.ca.mu.Unlock()
		if ok {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, r.at, r.reason
		}
	}
	der, err := ocsp.CreateResponse(rs.ca.cert, rs.ca.cert, tmpl, rs.ca.signer)
	if err != nil {
		w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	w.Write(der)
}

// issuedHere reports whether req names the server's CA as issuer.
func (rs *RevocationServer) issuedHere(req *ocsp.Request) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	h := req.HashAlgorithm.New()
	h.Write(rs.ca.cert.RawSubject)
	if string(h.Sum(nil)) != string(req.IssuerNameHash) {
		return false
	}
	ski, err := subjectKeyHash(rs.ca.cert, req.HashAlgorithm.New())
	return err == nil && string(ski) == string(req.IssuerKeyHash)
}

// subjectKeyHash hashes the subjectPublicKey bits of cert, as an OCSP
// CertID's issuerKeyHash does (RFC 6960 §4.1.1).
func subjectKeyHash(cert *x509.Certificate, h hash.Hash) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, err
	}
	h.Write(spki.PublicKey.RightAlign())
	return h.Sum(nil), nil
}
