// Package tsatest runs a real RFC 3161 time-stamping authority for tests,
// on an httptest server, with a certificate from a pkitest CA. Faults can
// be injected to test clients.
package tsatest

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"sello/internal/cms"
	"sello/internal/keys"
	"sello/internal/pkitest"
	"sello/internal/tsa"
)

// DefaultPolicy is the TSA policy of tokens when Options.Policy is nil: an
// OID under the arc reserved for examples (2.999).
var DefaultPolicy = asn1.ObjectIdentifier{2, 999, 3161, 1}

// Fault makes the server misbehave in one way.
type Fault int

// The faults a Server can inject.
const (
	// FaultNone answers correctly.
	FaultNone Fault = iota
	// FaultReject answers with PKIStatus rejection (badAlg).
	FaultReject
	// FaultHTTPError answers HTTP 503.
	FaultHTTPError
	// FaultWrongNonce echoes another nonce.
	FaultWrongNonce
	// FaultWrongImprint time-stamps another digest.
	FaultWrongImprint
	// FaultBadSignature corrupts the token's signature value.
	FaultBadSignature
	// FaultGarbage answers bytes that are not a TimeStampResp.
	FaultGarbage
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Now gives genTime; nil means time.Now.
	Now func() time.Time
	// Policy is the TSA policy; nil means DefaultPolicy.
	Policy asn1.ObjectIdentifier
	// KeyType is the TSA key; zero is ECDSA P-256.
	KeyType pkitest.KeyType
	// Accuracy is written into tokens when positive.
	Accuracy time.Duration
	// Fault injects a misbehaviour.
	Fault Fault
}

// Server is a running test TSA. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint to POST requests to.
	URL string
	// CA is the root that issued the TSA certificate.
	CA *pkitest.CA
	// Key is the TSA's key and chain (TSA certificate, root).
	Key *keys.Key

	opts     Options
	mu       sync.Mutex
	serial   int64
	requests int
}

// NewServer starts a TSA and stops it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Policy == nil {
		opts.Policy = DefaultPolicy
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "Test TSA Root", KeyType: opts.KeyType})
	key := ca.Issue(t, pkitest.Options{
		CommonName:   "Test Time-Stamping Authority",
		KeyType:      opts.KeyType,
		TimeStamping: true,
		NotBefore:    opts.Now().Add(-24 * time.Hour),
		Validity:     10 * 365 * 24 * time.Hour,
	})
	s := &Server{CA: ca, Key: key, opts: opts}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Roots returns a pool holding the TSA's root, for tsa.Options.Roots.
func (s *Server) Roots() *x509.CertPool { return s.CA.Pool() }

// Requests returns how many requests the server has answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ServeHTTP answers one RFC 3161 §3.4 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.serial++
	serial := s.serial
	s.mu.Unlock()

	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "expected a POST of application/timestamp-query", http.StatusBadRequest)
		return
	}
	if s.opts.Fault == FaultHTTPError {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, "read request", http.StatusBadRequest)
		return
	}
	resp := s.respond(body, serial)
	der, err := resp.Marshal()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if s.opts.Fault == FaultGarbage {
		der = []byte("not a response")
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(der)
}

// failInfo bits (RFC 3161 §2.4.2).
const (
	failBadAlg         = 1 << 0
	failBadDataFormat  = 1 << 5
	failUnacceptPolicy = 1 << 15
	failSystemFailure  = 1 << 25
)

func reject(bit int, text string) *tsa.Response {
	return &tsa.Response{Status: tsa.StatusRejection, StatusString: text, FailInfo: bit}
}

func (s *Server) respond(body []byte, serial int64) *tsa.Response {
	req, err := tsa.ParseRequest(body)
	if err != nil {
		return reject(failBadDataFormat, "malformed request")
	}
	if req.Hash == 0 || len(req.Digest) != req.Hash.Size() {
		return reject(failBadAlg, "unsupported hash algorithm")
	}
	if req.Policy != nil && !req.Policy.Equal(s.opts.Policy) {
		return reject(failUnacceptPolicy, "unknown policy")
	}
	if s.opts.Fault == FaultReject {
		return reject(failBadAlg, "rejected by fault injection")
	}
	info := &cms.TSTInfo{
		Policy:        s.opts.Policy,
		HashAlgorithm: req.Hash,
		HashedMessage: req.Digest,
		SerialNumber:  big.NewInt(serial),
		GenTime:       s.opts.Now().UTC().Truncate(time.Millisecond),
		Accuracy:      s.opts.Accuracy,
		Nonce:         req.Nonce,
	}
	switch s.opts.Fault {
	case FaultWrongNonce:
		info.Nonce = new(big.Int).Add(orZero(req.Nonce), big.NewInt(1))
	case FaultWrongImprint:
		info.HashedMessage = bytes.Repeat([]byte{0xee}, len(req.Digest))
	}
	infoDER, err := info.Marshal()
	if err != nil {
		return reject(failSystemFailure, err.Error())
	}
	token, err := cms.SignContent(infoDER, cms.OIDTSTInfo, cms.SignOptions{
		Signer: s.Key.Signer,
		Chain:  s.Key.Chain[:1],
		Hash:   req.Hash,
	})
	if err != nil {
		return reject(failSystemFailure, err.Error())
	}
	if s.opts.Fault == FaultBadSignature {
		// The signature value is the last field of the only SignerInfo.
		token[len(token)-1] ^= 0x55
	}
	return &tsa.Response{Status: tsa.StatusGranted, Token: token}
}

func orZero(n *big.Int) *big.Int {
	if n == nil {
		return new(big.Int)
	}
	return n
}
