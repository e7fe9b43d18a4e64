package signing

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/ca"
	"sello/internal/identity"
	"sello/internal/keys"
	"sello/internal/pades"
)

type fakeIdentity struct {
	signer     *identity.Signer
	err        error
	consumeErr error
}

func (f fakeIdentity) Check(ctx context.Context, account, clientInfo string) (*identity.Signer, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.signer, nil
}

func (f fakeIdentity) Consume(ctx context.Context, account string, signer *identity.Signer) error {
	return f.consumeErr
}

func testSigner() *identity.Signer {
	return &identity.Signer{Name: "José Núñez", IDType: "CC", IDNumber: "1020304050", Source: identity.SourceTransaction, Transaction: "tx-1"}
}

type fakeKeys struct {
	key *keys.Key
	err error
}

func (f fakeKeys) Key(ctx context.Context, signer *identity.Signer) (*keys.Key, error) {
	return f.key, f.err
}

type memAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
	err     error
}

func (m *memAudit) Record(ctx context.Context, entries []AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.entries = append(m.entries, entries...)
	return nil
}

// fakeSigned is the original bytes followed by a fixed tail.
type fakeSigned struct {
	src  io.ReaderAt
	size int64
	tail []byte
}

func (f *fakeSigned) Size() int64 { return f.size + int64(len(f.tail)) }

func (f *fakeSigned) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, io.NewSectionReader(f.src, 0, f.size))
	if err != nil {
		return n, err
	}
	m, err := w.Write(f.tail)
	return n + int64(m), err
}

// errFault is an error no reason matches: a service fault.
var errFault = errors.New("signing test: key store on fire")

// fakeSign appends "%%signed <reference>" unless the document starts with
// "FAULT", which gives errFault.
func fakeSign(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (SignedDocument, error) {
	head := make([]byte, 5)
	if _, err := src.ReadAt(head, 0); err == nil && string(head) == "FAULT" {
		return nil, errFault
	}
	return &fakeSigned{src: src, size: size, tail: []byte("\n%%signed by " + opts.Name + "\n")}, nil
}

func mustKey(t *testing.T) *keys.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0xabc123),
		Subject:      pkix.Name{CommonName: "Test Signer"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(1<<32, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &keys.Key{Signer: priv, Chain: []*x509.Certificate{cert}}
}

var fixedTime = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func newTestService(t *testing.T, opts Options) *Service {
	t.Helper()
	if opts.Identity == nil {
		opts.Identity = fakeIdentity{signer: testSigner()}
	}
	if opts.Keys == nil {
		opts.Keys = fakeKeys{key: mustKey(t)}
	}
	if opts.Sign == nil {
		opts.Sign = fakeSign
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedTime }
	}
	if opts.NewID == nil {
		var n atomic.Int64
		opts.NewID = func() (string, error) { return fmt.Sprintf("doc%03d", n.Add(1)), nil }
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func docs(contents ...string) []Document {
	var ds []Document
	for i, c := range contents {
		ds = append(ds, Document{ReferenceNumber: fmt.Sprintf("ref%d", i), Content: bytes.NewReader([]byte(c)), Size: int64(len(c))})
	}
	return ds
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func writeOut(t *testing.T, d SignedDocument) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := d.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSignBatch(t *testing.T) {
	t.Parallel()
	audit := &memAudit{}
	s := newTestService(t, Options{Audit: audit})
	req := Request{
		RequestID: "req-1", ClientID: "client-1", Account: "acc", Project: "proj",
		ClientInfo: "tx-1",
		Documents:  docs("%PDF-1.7 one", "%PDF-1.7 two", "%PDF-1.7 three"),
	}
	got, err := s.Sign(t.Context(), req)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	var gotOut []string
	for _, r := range got {
		if r.Status != StatusSuccess {
			t.Fatalf("result %+v, want SUCCESS", r)
		}
		gotOut = append(gotOut, writeOut(t, r.Signed))
	}
	tail := "\n%%signed by José Núñez\n"
	wantOut := []string{"%PDF-1.7 one" + tail, "%PDF-1.7 two" + tail, "%PDF-1.7 three" + tail}
	if diff := cmp.Diff(wantOut, gotOut); diff != "" {
		t.Errorf("signed documents (-want +got):\n%s", diff)
	}
	gotIDs := []string{got[0].DocumentID, got[1].DocumentID, got[2].DocumentID}
	if diff := cmp.Diff([]string{"doc001", "doc002", "doc003"}, gotIDs); diff != "" {
		t.Errorf("document ids (-want +got):\n%s", diff)
	}

	var want []AuditEntry
	for i, c := range []string{"%PDF-1.7 one", "%PDF-1.7 two", "%PDF-1.7 three"} {
		want = append(want, AuditEntry{
			DocumentID: fmt.Sprintf("doc%03d", i+1), RequestID: "req-1",
			ReferenceNumber: fmt.Sprintf("ref%d", i), ClientID: "client-1", Account: "acc", Project: "proj",
			SignerName: "José Núñez", SignerIdentification: "CC 1020304050", CertificateSerial: "abc123",
			SignerSource: "transaction", TransactionNumber: "tx-1",
			OriginalSHA256: hexSHA256(c), SignedSHA256: hexSHA256(c + tail),
			Status: StatusSuccess, Time: fixedTime,
		})
	}
	if diff := cmp.Diff(want, audit.entries); diff != "" {
		t.Errorf("audit entries (-want +got):\n%s", diff)
	}
}

func TestSignIdentityNotValidated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		identity fakeIdentity
	}{
		{"check refuses", fakeIdentity{err: &identity.RuleError{Rule: identity.RuleExpired}}},
		{"check refuses, wrapped sentinel", fakeIdentity{err: fmt.Errorf("tx-9: %w", identity.ErrNotValidated)}},
		{"consumed by another request", fakeIdentity{signer: testSigner(), consumeErr: &identity.RuleError{Rule: identity.RuleConsumed, Err: identity.ErrConsumed}}},
		// The default: a provider that cannot answer fails the documents,
		// it is not a fault of the service (issue 5).
		{"provider unavailable", fakeIdentity{err: &identity.RuleError{Rule: identity.RuleUnavailable, Err: errors.New("provider down")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			audit := &memAudit{}
			s := newTestService(t, Options{Audit: audit, Identity: tt.identity})
			got, err := s.Sign(t.Context(), Request{RequestID: "r", ClientInfo: "tx-9", Documents: docs("a", "b")})
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			want := []Result{
				{ReferenceNumber: "ref0", DocumentID: "doc001", Status: StatusFail, ErrorReason: "Identity validation error."},
				{ReferenceNumber: "ref1", DocumentID: "doc002", Status: StatusFail, ErrorReason: "Identity validation error."},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if len(audit.entries) != 2 {
				t.Fatalf("audit entries = %+v, want two", audit.entries)
			}
			for i, e := range audit.entries {
				if e.Status != StatusFail || e.ErrorReason != "Identity validation error." || e.SignedSHA256 != "" || e.OriginalSHA256 != hexSHA256([]string{"a", "b"}[i]) {
					t.Errorf("audit entry %d = %+v, want FAIL with the original's digest only", i, e)
				}
				if e.Detail == "" {
					t.Errorf("audit entry %d has no detail: the rule that refused must be recorded", i)
				}
			}
		})
	}
}

func TestSignFaults(t *testing.T) {
	t.Parallel()
	errStore := errors.New("store down")
	tests := []struct {
		name    string
		opts    Options
		docs    []Document
		wantErr error
	}{
		{"identity provider down", Options{Identity: fakeIdentity{err: errStore}}, docs("a"), errStore},
		{"identity provider unavailable, configured as a fault", Options{UnavailableIsFault: true, Identity: fakeIdentity{err: &identity.RuleError{Rule: identity.RuleUnavailable, Err: errStore}}}, docs("a"), errStore},
		{"consume unavailable, configured as a fault", Options{UnavailableIsFault: true, Identity: fakeIdentity{signer: testSigner(), consumeErr: &identity.RuleError{Rule: identity.RuleUnavailable, Err: errStore}}}, docs("a"), errStore},
		{"key unavailable", Options{Keys: fakeKeys{err: keys.ErrUnavailable}}, docs("a"), keys.ErrUnavailable},
		{"audit down", Options{Audit: &memAudit{err: errStore}}, docs("a", "b"), errStore},
		{"signing fault in one document", Options{}, docs("a", "FAULT", "c"), errFault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.opts.Audit == nil {
				tt.opts.Audit = &memAudit{}
			}
			s := newTestService(t, tt.opts)
			got, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: tt.docs})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sign error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Sign returned results %+v with an error", got)
			}
			if a := tt.opts.Audit.(*memAudit); len(a.entries) != 0 {
				t.Errorf("audit entries recorded for a failed batch: %+v", a.entries)
			}
		})
	}
}

func TestSignOverloaded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	blocking := func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (SignedDocument, error) {
		started <- struct{}{}
		<-release
		return fakeSign(ctx, src, size, opts)
	}
	s := newTestService(t, Options{
		Audit: &memAudit{}, Sign: blocking,
		MaxSigning: 1, QueueTimeout: 10 * time.Millisecond,
	})
	done := make(chan error, 1)
	go func() {
		_, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: docs("a")})
		done <- err
	}()
	<-started
	if _, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: docs("b")}); !errors.Is(err, ErrOverloaded) {
		t.Errorf("second batch error = %v, want ErrOverloaded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first batch error = %v", err)
	}
	// Capacity is free again.
	if _, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: docs("c")}); err != nil {
		t.Errorf("third batch error = %v", err)
	}
}

func TestSignConcurrencyBound(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int64
	gate := make(chan struct{})
	counting := func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (SignedDocument, error) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-gate
		inFlight.Add(-1)
		return fakeSign(ctx, src, size, opts)
	}
	s := newTestService(t, Options{Audit: &memAudit{}, Sign: counting, MaxSigning: 8, MaxSigningPerBatch: 3})
	done := make(chan error, 1)
	go func() {
		_, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: docs("1", "2", "3", "4", "5", "6", "7")})
		done <- err
	}()
	// Let the documents through one by one; the batch never has more than
	// three in flight.
	for range 7 {
		gate <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("peak documents in flight = %d, want at most 3", p)
	}
}

func TestDigestsWithoutPAdES(t *testing.T) {
	t.Parallel()
	// A signed document that does not report its digests is read: the
	// original from the request, the result through WriteTo.
	doc := Document{Content: strings.NewReader("original"), Size: int64(len("original"))}
	orig, sum, err := digests(doc, &fakeSigned{src: doc.Content, size: doc.Size, tail: []byte("+tail")})
	if err != nil {
		t.Fatal(err)
	}
	wantO, wantS := sha256.Sum256([]byte("original")), sha256.Sum256([]byte("original+tail"))
	if diff := cmp.Diff([][]byte{wantO[:], wantS[:]}, [][]byte{orig, sum}); diff != "" {
		t.Errorf("digests (-want +got):\n%s", diff)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{}); err == nil {
		t.Error("New(Options{}) = nil error, want an error")
	}
}

func TestSignWithCAKeys(t *testing.T) {
	t.Parallel()
	authority := mustCA(t)
	tests := []struct {
		name       string
		signer     *identity.Signer
		wantStatus Status
		wantReason string
	}{
		{"certified signer", testSigner(), StatusSuccess, ""},
		{"identification type unknown", &identity.Signer{Name: "Ana", IDType: "XYZ", IDNumber: "1"}, StatusFail, "Identity validation error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			audit := &memAudit{}
			var gotKey *keys.Key
			sign := func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (SignedDocument, error) {
				gotKey = opts.Key
				return fakeSign(ctx, src, size, opts)
			}
			s := newTestService(t, Options{
				Audit: audit, Sign: sign, MaxSigningPerBatch: 1,
				Identity: fakeIdentity{signer: tt.signer},
				Keys:     CAKeys{CA: authority},
			})
			got, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: docs("%PDF-1.7 a")})
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got[0].Status != tt.wantStatus || got[0].ErrorReason != tt.wantReason {
				t.Fatalf("result %+v, want %s %q", got[0], tt.wantStatus, tt.wantReason)
			}
			if tt.wantStatus != StatusSuccess {
				return
			}
			cert := gotKey.Certificate()
			if cert == nil || cert.Subject.CommonName != tt.signer.Name {
				t.Fatalf("signing certificate %v, want one naming %q", cert, tt.signer.Name)
			}
			if want := cert.SerialNumber.Text(16); audit.entries[0].CertificateSerial != want {
				t.Errorf("audit serial = %q, want %q", audit.entries[0].CertificateSerial, want)
			}
		})
	}
}

func TestSealKey(t *testing.T) {
	t.Parallel()
	key := mustKey(t)
	got, err := SealKey{Provider: fixedProvider{key}}.Key(t.Context(), testSigner())
	if err != nil || got != key {
		t.Errorf("SealKey.Key = %v, %v; want the provider's key", got, err)
	}
}

type fixedProvider struct{ key *keys.Key }

func (p fixedProvider) Key(ctx context.Context) (*keys.Key, error) { return p.key, nil }

func mustCA(t *testing.T) *ca.CA {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca.New(priv, cert, ca.Options{Country: "CO"})
}

func TestSignReportsElapsed(t *testing.T) {
	t.Parallel()
	s := newTestService(t, Options{Audit: &memAudit{}})
	got, err := s.Sign(t.Context(), Request{ClientInfo: "tx", Documents: docs("%PDF-1.7 a", "%PDF-1.7 b")})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r.Elapsed <= 0 {
			t.Errorf("result %d: Elapsed = %v, want the time spent signing", i, r.Elapsed)
		}
	}
}
