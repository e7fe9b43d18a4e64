package ca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/cms"
	"sello/internal/pkitest"
)

var fixedNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// constReader is an endless stream of one byte, for reproducible serials.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func testOptions() Options {
	return Options{
		Organization: "Sello Test",
		Country:      "CO",
		Now:          func() time.Time { return fixedNow },
		Rand:         constReader(0x5a),
	}
}

func mustCA(t *testing.T) *CA {
	t.Helper()
	opts := testOptions()
	// Another serial for the root: issuer and serial must tell the root
	// and its leaves apart.
	opts.Rand = constReader(0x11)
	c, err := LoadOrCreate(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("LoadOrCreate() = %v", err)
	}
	return New(c.signer, c.cert, testOptions())
}

func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadOrCreate(dir, Options{})
	if err != nil {
		t.Fatalf("LoadOrCreate() = %v", err)
	}
	if got, want := first.Certificate().Subject.CommonName, DefaultSubject; got != want {
		t.Errorf("CN = %q, want %q", got, want)
	}
	if _, ok := first.Certificate().PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("CA key is %T, want ECDSA", first.Certificate().PublicKey)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %v, want 0600", got)
	}
	second, err := LoadOrCreate(dir, Options{Subject: "ignored once created"})
	if err != nil {
		t.Fatalf("LoadOrCreate() again = %v", err)
	}
	if !second.Certificate().Equal(first.Certificate()) {
		t.Error("second LoadOrCreate made a new CA")
	}
	if _, err := second.Issue(t.Context(), Person{Name: "A", IDType: "CC", IDNumber: "1", Country: "CO"}, IssueOptions{}); err != nil {
		t.Errorf("Issue() with loaded CA = %v", err)
	}
}

func TestLoadOrCreateInvalid(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	if _, err := LoadOrCreate(a, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(b, Options{}); err != nil {
		t.Fatal(err)
	}
	onlyKey := t.TempDir()
	copyFile(t, filepath.Join(a, KeyFile), filepath.Join(onlyKey, KeyFile))
	mismatch := t.TempDir()
	copyFile(t, filepath.Join(a, KeyFile), filepath.Join(mismatch, KeyFile))
	copyFile(t, filepath.Join(b, CertFile), filepath.Join(mismatch, CertFile))
	notCA := t.TempDir()
	leaf := pkitest.NewCA(t, pkitest.Options{}).Issue(t, pkitest.Options{})
	kf, cf := pkitest.WritePEM(t, leaf)
	copyFile(t, kf, filepath.Join(notCA, KeyFile))
	copyFile(t, cf, filepath.Join(notCA, CertFile))
	for name, dir := range map[string]string{"only key": onlyKey, "mismatch": mismatch, "not a CA": notCA} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := LoadOrCreate(dir, Options{}); !errors.Is(err, ErrInvalidCA) {
				t.Errorf("LoadOrCreate() = %v, want ErrInvalidCA", err)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestIssue(t *testing.T) {
	t.Parallel()
	c := mustCA(t)
	tests := []struct {
		name       string
		person     Person
		opts       IssueOptions
		wantSerial string
		wantKey    string
		wantEKU    int    // number of standard extended key usages
		wantCN     string // "" for the person's name
	}{
		{"cedula", Person{Name: "José Ñúñez Conceição", IDType: "CC", IDNumber: "1020304050"}, IssueOptions{}, "IDCCO-1020304050", "ecdsa", 0, ""},
		{"passport with country", Person{Name: "Ana Silva", IDType: "passport", IDNumber: "AB123456", Country: "br", Email: "ana@example.com"}, IssueOptions{EmailProtection: true}, "PASBR-AB123456", "ecdsa", 1, ""},
		{"tax number, RSA", Person{Name: "Empresa", IDType: "NIT", IDNumber: "900123456-7"}, IssueOptions{RSA: true}, "TAXCO-900123456-7", "rsa", 0, ""},
		{"no id type", Person{Name: "Ana", IDNumber: "1020304050"}, IssueOptions{}, "1020304050", "ecdsa", 0, ""},
		// 64 characters, 80 bytes: the limit counts characters.
		{"64 accented characters", Person{Name: strings.Repeat("ñ", 16) + " " + strings.Repeat("é", 15) + " " + strings.Repeat("a", 31), IDType: "CC", IDNumber: "1"}, IssueOptions{}, "IDCCO-1", "ecdsa", 0, ""},
		{"name over 64 characters", Person{Name: "María de los Ángeles Fernández de Córdoba y Gutiérrez de la Concha Núñez", IDType: "CC", IDNumber: "1"}, IssueOptions{}, "IDCCO-1", "ecdsa", 0, "María de los Ángeles Fernández de Córdoba y Gutiérrez de la Conc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, err := c.Issue(t.Context(), tc.person, tc.opts)
			if err != nil {
				t.Fatalf("Issue() = %v", err)
			}
			if len(key.Chain) != 2 || !key.Chain[1].Equal(c.Certificate()) {
				t.Fatalf("chain = %d certificates, want leaf and CA", len(key.Chain))
			}
			leaf := key.Chain[0]
			got := struct {
				CN, Serial string
				O, C       []string
				Emails     []string
			}{leaf.Subject.CommonName, leaf.Subject.SerialNumber, leaf.Subject.Organization, leaf.Subject.Country, leaf.EmailAddresses}
			want := got
			want.CN, want.Serial, want.O, want.C = tc.person.Name, tc.wantSerial, []string{"Sello Test"}, []string{"CO"}
			if tc.wantCN != "" {
				want.CN = tc.wantCN
			}
			want.Emails = nil
			if tc.person.Email != "" {
				want.Emails = []string{tc.person.Email}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("subject (-want +got):\n%s", diff)
			}
			if got, want := leaf.KeyUsage, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment; got != want {
				t.Errorf("KeyUsage = %v, want %v", got, want)
			}
			if diff := cmp.Diff([]asn1.ObjectIdentifier{oidDocumentSigning}, leaf.UnknownExtKeyUsage); diff != "" {
				t.Errorf("document signing EKU (-want +got):\n%s", diff)
			}
			if got := len(leaf.ExtKeyUsage); got != tc.wantEKU {
				t.Errorf("len(ExtKeyUsage) = %d, want %d", got, tc.wantEKU)
			}
			if !leaf.NotBefore.Equal(fixedNow.Add(-time.Minute)) || !leaf.NotAfter.Equal(fixedNow.Add(time.Hour)) {
				t.Errorf("validity = %v .. %v, want a minute back to an hour ahead of %v", leaf.NotBefore, leaf.NotAfter, fixedNow)
			}
			if got := leaf.SerialNumber.BitLen(); got != 127 {
				t.Errorf("serial has %d bits, want 127 (16 octets, positive)", got)
			}
			switch pub := leaf.PublicKey.(type) {
			case *ecdsa.PublicKey:
				if tc.wantKey != "ecdsa" || pub.Curve.Params().BitSize != 256 {
					t.Errorf("key = ECDSA %d, want %s", pub.Curve.Params().BitSize, tc.wantKey)
				}
			case *rsa.PublicKey:
				if tc.wantKey != "rsa" || pub.N.BitLen() != 2048 {
					t.Errorf("key = RSA %d, want %s", pub.N.BitLen(), tc.wantKey)
				}
			}
			roots := x509.NewCertPool()
			roots.AddCert(c.Certificate())
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: fixedNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("leaf.Verify() = %v", err)
			}
			// The issued key signs a CMS signature that verifies.
			digest := sha256.Sum256([]byte("document"))
			der, err := cms.Sign(digest[:], cms.SignOptions{Signer: key.Signer, Chain: key.Chain})
			if err != nil {
				t.Fatalf("cms.Sign() = %v", err)
			}
			sd, err := cms.Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := sd.Verify(digest[:]); err != nil {
				t.Errorf("Verify() = %v", err)
			}
		})
	}
}

func TestIssueInvalid(t *testing.T) {
	t.Parallel()
	c := mustCA(t)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		person Person
		want   error
	}{
		{"no name", t.Context(), Person{IDType: "CC", IDNumber: "1"}, ErrInvalidPerson},
		{"unknown id type", t.Context(), Person{Name: "A", IDType: "XYZ", IDNumber: "1"}, ErrInvalidPerson},
		{"no number", t.Context(), Person{Name: "A", IDType: "CC"}, ErrInvalidPerson},
		{"number with spaces", t.Context(), Person{Name: "A", IDType: "CC", IDNumber: "1 2"}, ErrInvalidPerson},
		{"bad country", t.Context(), Person{Name: "A", IDType: "CC", IDNumber: "1", Country: "COL"}, ErrInvalidPerson},
		{"canceled", canceled, Person{Name: "A", IDType: "CC", IDNumber: "1"}, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := c.Issue(tc.ctx, tc.person, IssueOptions{}); !errors.Is(err, tc.want) {
				t.Errorf("Issue() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSerialNumberWithoutCountry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Person
		want string
	}{
		{"no country anywhere", Person{IDType: "CC", IDNumber: "1"}, "1"},
		{"person's country", Person{IDType: "CC", IDNumber: "1", Country: "pt"}, "IDCPT-1"},
		{"three-letter type kept", Person{IDType: "pno", IDNumber: "1", Country: "ES"}, "PNOES-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.p.SerialNumber("")
			if err != nil || got != tc.want {
				t.Errorf("SerialNumber() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestIssueReproducibleSerial(t *testing.T) {
	t.Parallel()
	c := mustCA(t)
	p := Person{Name: "A", IDType: "CC", IDNumber: "1"}
	a, err := c.Issue(t.Context(), p, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Issue(t.Context(), p, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Chain[0].SerialNumber.Cmp(b.Chain[0].SerialNumber) != 0 {
		t.Error("same Rand gave different serial numbers")
	}
	var r [16]byte
	io.ReadFull(constReader(0x5a), r[:])
	if want := append([]byte{0x5a}, r[1:]...); !bytes.Equal(a.Chain[0].SerialNumber.Bytes(), want) {
		t.Errorf("serial = %x, want %x", a.Chain[0].SerialNumber.Bytes(), want)
	}
}

func TestNewExternal(t *testing.T) {
	t.Parallel()
	root := pkitest.NewCA(t, pkitest.Options{KeyType: pkitest.RSA2048, CommonName: "External CA"})
	c := New(root.Signer(), root.Certificate(), testOptions())
	key, err := c.Issue(t.Context(), Person{Name: "B", IDType: "CC", IDNumber: "2"}, IssueOptions{})
	if err != nil {
		t.Fatalf("Issue() = %v", err)
	}
	if err := key.Chain[0].CheckSignatureFrom(root.Certificate()); err != nil {
		t.Errorf("CheckSignatureFrom() = %v", err)
	}
	other := pkitest.NewCA(t, pkitest.Options{CommonName: "Other CA"})
	bad := New(other.Signer(), root.Certificate(), testOptions())
	if _, err := bad.Issue(t.Context(), Person{Name: "B", IDType: "CC", IDNumber: "2"}, IssueOptions{}); err == nil {
		t.Error("Issue() with a key that does not match the CA certificate = nil error")
	}
}

func TestCRL(t *testing.T) {
	t.Parallel()
	c := mustCA(t)
	der, err := c.CRL(t.Context())
	if err != nil {
		t.Fatalf("CRL() = %v", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("ParseRevocationList() = %v", err)
	}
	if err := crl.CheckSignatureFrom(c.Certificate()); err != nil {
		t.Errorf("CheckSignatureFrom() = %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 0 {
		t.Errorf("CRL revokes %d certificates, want none", len(crl.RevokedCertificateEntries))
	}
	if !crl.ThisUpdate.Before(fixedNow) || !crl.NextUpdate.Equal(fixedNow.Add(time.Hour)) {
		t.Errorf("CRL valid %v .. %v, want around %v for an hour", crl.ThisUpdate, crl.NextUpdate, fixedNow)
	}
	if crl.Number.Int64() != fixedNow.Unix() {
		t.Errorf("CRL number = %v, want %d", crl.Number, fixedNow.Unix())
	}
}
