package filekey

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sello/internal/keys"
	"sello/internal/pkitest"
)

func mustWrite(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func subjects(chain []*x509.Certificate) []string {
	var s []string
	for _, c := range chain {
		s = append(s, c.Subject.CommonName)
	}
	return s
}

func TestLoadPEM(t *testing.T) {
	t.Parallel()
	root := pkitest.NewCA(t, pkitest.Options{})
	inter := root.NewIntermediate(t, pkitest.Options{})
	ecKey := inter.Issue(t, pkitest.Options{CommonName: "EC Leaf"})
	rsaKey := inter.Issue(t, pkitest.Options{CommonName: "RSA Leaf", KeyType: pkitest.RSA2048})
	other := inter.Issue(t, pkitest.Options{CommonName: "Other"})
	wantChain := []string{"EC Leaf", "Test Intermediate CA", "Test Root CA"}

	pkcs8, err := x509.MarshalPKCS8PrivateKey(ecKey.Signer)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey.Signer.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey.Signer.(*rsa.PrivateKey))
	chain := pkitest.ChainPEM(ecKey.Chain)
	rev := slices.Clone(ecKey.Chain)
	slices.Reverse(rev)
	reversed := pkitest.ChainPEM(rev)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{
		"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00000000000000000000000000000000"}, Bytes: sec1})

	tests := []struct {
		name      string
		key, cert []byte
		same      bool // key and cert in one file
		wantChain []string
		wantErr   error
	}{
		{name: "PKCS#8", key: pemBlock("PRIVATE KEY", pkcs8), cert: chain, wantChain: wantChain},
		{name: "SEC 1 with parameters", key: append(pemBlock("EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), pemBlock("EC PRIVATE KEY", sec1)...), cert: chain, wantChain: wantChain},
		{name: "PKCS#1", key: pemBlock("RSA PRIVATE KEY", pkcs1), cert: pkitest.ChainPEM(rsaKey.Chain), wantChain: []string{"RSA Leaf", "Test Intermediate CA", "Test Root CA"}},
		{name: "chain in reverse order", key: pemBlock("PRIVATE KEY", pkcs8), cert: reversed, wantChain: wantChain},
		{name: "one file", key: append(pemBlock("PRIVATE KEY", pkcs8), chain...), same: true, wantChain: wantChain},
		{name: "certificate of another key", key: pemBlock("PRIVATE KEY", pkcs8), cert: pkitest.ChainPEM(other.Chain), wantErr: ErrKeyMismatch},
		{name: "no key", key: chain, cert: chain, wantErr: ErrNoKey},
		{name: "no certificate", key: pemBlock("PRIVATE KEY", pkcs8), cert: []byte("nothing"), wantErr: ErrNoCertificate},
		{name: "encrypted legacy PEM", key: encrypted, cert: chain, wantErr: ErrEncrypted},
		{name: "encrypted PKCS#8", key: pemBlock("ENCRYPTED PRIVATE KEY", pkcs8), cert: chain, wantErr: ErrEncrypted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kf := mustWrite(t, "key.pem", tc.key)
			cf := kf
			if !tc.same {
				cf = mustWrite(t, "cert.pem", tc.cert)
			}
			key, err := LoadPEM(kf, cf)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("LoadPEM() = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.wantChain, subjects(key.Chain)); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadPKCS12(t *testing.T) {
	t.Parallel()
	root := pkitest.NewCA(t, pkitest.Options{})
	for _, kt := range pkitest.KeyTypes() {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			want := root.Issue(t, pkitest.Options{KeyType: kt, CommonName: "Leaf " + kt.String()})
			file := pkitest.WritePKCS12(t, want, "pässword")
			got, err := LoadPKCS12(file, "pässword")
			if err != nil {
				t.Fatalf("LoadPKCS12() = %v", err)
			}
			if !got.Chain[0].Equal(want.Chain[0]) || len(got.Chain) != 2 {
				t.Errorf("chain = %v, want leaf and root", subjects(got.Chain))
			}
			if _, err := LoadPKCS12(file, "wrong"); !errors.Is(err, ErrBadPassword) {
				t.Errorf("LoadPKCS12(wrong password) = %v, want ErrBadPassword", err)
			}
		})
	}
}

// TestLoadPKCS12OpenSSL reads a file written by an independent encoder.
func TestLoadPKCS12OpenSSL(t *testing.T) {
	t.Parallel()
	key := pkitest.NewCA(t, pkitest.Options{}).Issue(t, pkitest.Options{})
	kf, cf := pkitest.WritePEM(t, key)
	p12 := filepath.Join(t.TempDir(), "o.p12")
	pkitest.OpenSSL(t, "pkcs12", "-export", "-inkey", kf, "-in", cf, "-out", p12, "-passout", "pass:s3cret")
	got, err := LoadPKCS12(p12, "s3cret")
	if err != nil {
		t.Fatalf("LoadPKCS12() = %v", err)
	}
	if !got.Chain[0].Equal(key.Chain[0]) {
		t.Error("wrong leaf certificate")
	}
}

func TestProvider(t *testing.T) {
	t.Parallel()
	want := pkitest.NewCA(t, pkitest.Options{}).Issue(t, pkitest.Options{})
	kf, cf := pkitest.WritePEM(t, want)
	p12 := pkitest.WritePKCS12(t, want, "pw")
	tests := []struct {
		name string
		opts Options
	}{
		{"PEM", Options{KeyFile: kf, CertFile: cf}},
		{"PKCS#12", Options{PKCS12File: p12, Password: "pw"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewProvider(tc.opts)
			if err != nil {
				t.Fatalf("NewProvider() = %v", err)
			}
			var kp keys.Provider = p
			got, err := kp.Key(t.Context())
			if err != nil {
				t.Fatalf("Key() = %v", err)
			}
			if !got.Certificate().Equal(want.Certificate()) {
				t.Error("Key() returned another certificate")
			}
		})
	}
	if _, err := NewProvider(Options{}); err == nil {
		t.Error("NewProvider(no files) = nil error")
	}
}
