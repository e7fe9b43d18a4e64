//go:build cgo

package pkcs11

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sello/internal/corpus"
	"sello/internal/pades"
	"sello/internal/pkitest"
)

// TestSignCorpusWithHSM signs real-world documents with keys kept in
// SoftHSM2 and checks the results with the independent verifier. RSA-PSS
// is checked by TestSign only: mutool 1.21 cannot verify PSS signatures in
// PDF files ("Digest error"), while pdfsig and the CMS check accept them.
func TestSignCorpusWithHSM(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow: runs the independent verifier")
	}
	mustSoftHSM(t)
	dir := corpus.Dir(t)
	verifier := corpus.Verifier(t)
	tests := []struct {
		name string // of its key in testKeys, after "corpus-"
		file string
	}{
		{"RSA-PKCS1v15", "s01-google-docs.pdf"},
		{"ECDSA-P256", "s13-hybrid-xref-msword-style.pdf"},
		{"ECDSA-P256-PDF20", "s07-pdf20-simple.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := mustKey(t, "corpus-"+tt.name)
			s := mustOpen(t, Options{URI: uriFor(mainToken, tk.label), CertificateFile: mustChainFile(t, tk)})
			key, err := s.Key(t.Context())
			if err != nil {
				t.Fatalf("Key = %v", err)
			}
			orig := filepath.Join(dir, tt.file)
			data, err := os.ReadFile(orig)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := pades.Sign(t.Context(), bytes.NewReader(data), int64(len(data)), pades.Options{
				Key: key, Page: 0, Rect: &pades.Rect{X1: 20, Y1: 120, X2: 200, Y2: 40},
				Name: "Sello HSM " + tt.name, Identification: "NIT 900123456",
				Reason: "Sello de la organización", Location: "Bogotá",
				Time: time.Date(2026, 12, 4, 16, 15, 3, 0, time.UTC),
			})
			if err != nil {
				t.Fatalf("pades.Sign = %v", err)
			}
			var out bytes.Buffer
			if _, err := signed.WriteTo(&out); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "signed.pdf")
			if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), verifier, orig, path,
				"--page", "0", "--rect", "20,120,200,40", "--expect-signer", "Sello HSM corpus-"+tt.name)
			if report, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("verify-signed.sh: %v\n%s", err, report)
			}
		})
	}
}

// mustChainFile writes the key's certificate and its CA to a PEM file, so
// that the signature carries the whole chain.
func mustChainFile(t *testing.T, tk testKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chain.pem")
	if err := os.WriteFile(path, pkitest.ChainPEM(tk.chain), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
