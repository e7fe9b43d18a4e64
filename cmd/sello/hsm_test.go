package main

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ThalesGroup/crypto11"

	"sello/internal/corpus"
	"sello/internal/pades"
	"sello/internal/pkitest"
)

// mustHSMKey generates a key pair in the SoftHSM token with a fresh label
// and returns the label and the token's signer.
func mustHSMKey(t *testing.T, rsaKey bool) (string, crypto.Signer) {
	t.Helper()
	c11, err := crypto11.Configure(&crypto11.Config{Path: softhsmModule, TokenLabel: softhsmToken, Pin: softhsmPIN})
	if err != nil {
		t.Fatalf("crypto11.Configure: %v", err)
	}
	t.Cleanup(func() { c11.Close() })
	label := "e2e-" + rand.Text()[:8]
	var s crypto11.Signer
	if rsaKey {
		s, err = c11.GenerateRSAKeyPairWithLabel([]byte(label), []byte(label), 2048)
	} else {
		s, err = c11.GenerateECDSAKeyPairWithLabel([]byte(label), []byte(label), elliptic.P256())
	}
	if err != nil {
		t.Fatalf("generate key %s: %v", label, err)
	}
	return label, s
}

func hsmURI(label string) string {
	return "pkcs11:token=" + softhsmToken + ";object=" + label + "?module-path=" + softhsmModule + "&pin-value=" + softhsmPIN
}

// TestHSMSigning signs real documents through the API with keys in a
// PKCS#11 token: an RSA-2048 organisation seal, and an ECDSA P-256 CA key
// that issues the on-demand certificates. The outputs pass the shared
// verifier.
func TestHSMSigning(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	verifier := corpus.Verifier(t)
	pdfPath := filepath.Join(corpus.Dir(t), "s14-groff-ghostscript.pdf")
	pdf := mustReadFile(t, pdfPath)

	sealLabel, sealSigner := mustHSMKey(t, true)
	sealCA := pkitest.NewCA(t, pkitest.Options{CommonName: "HSM Seal CA"})
	sealCert := filepath.Join(t.TempDir(), "seal.pem")
	sealKey := sealCA.Issue(t, pkitest.Options{CommonName: "ACME HSM Seal", Key: sealSigner})
	if err := os.WriteFile(sealCert, pkitest.ChainPEM(sealKey.Chain), 0o644); err != nil {
		t.Fatal(err)
	}

	caLabel, caSigner := mustHSMKey(t, false)
	hsmCA := pkitest.NewCA(t, pkitest.Options{CommonName: "HSM Issuing CA", Key: caSigner})
	caCert := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caCert, pkitest.ChainPEM(hsmCA.Chain()), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, wantIssuer string
		flags            []string
	}{
		{"seal-rsa", "HSM Seal CA", []string{"-cert-mode=seal", "-seal-pkcs11-uri=" + hsmURI(sealLabel), "-seal-cert-file=" + sealCert}},
		{"ca-ecdsa", "HSM Issuing CA", []string{"-ca-pkcs11-uri=" + hsmURI(caLabel), "-ca-cert-file=" + caCert}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, dir := startServe(t, tc.flags...)
			api := newAPIClient(t, base, dir, "ACME", "payroll")
			res := api.sign(t, `{"name": "José Núñez", "identification": "CC 1020304050"}`, pdf)
			d := res.SignedDocuments[0]
			if d.Status != "SUCCESS" {
				t.Fatalf("signing = %s %v", d.Status, d.ErrorReason)
			}
			signed, _ := base64.StdEncoding.DecodeString(*d.SignedDocument)
			path := filepath.Join(t.TempDir(), "signed.pdf")
			if err := os.WriteFile(path, signed, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.CommandContext(t.Context(), verifier, pdfPath, path, "--page", "0", "--rect", "300,300,500,150").CombinedOutput(); err != nil {
				t.Fatalf("verify-signed.sh: %v\n%s", err, out)
			}
			sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
			if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
				t.Fatalf("Verify = %+v, %v", sigs, err)
			}
			if got := sigs[0].Signer.Issuer.CommonName; got != tc.wantIssuer {
				t.Errorf("signer certificate issued by %q, want %q", got, tc.wantIssuer)
			}
		})
	}
}
