package httpapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sello/internal/ca"
	"sello/internal/corpus"
	"sello/internal/pkitest"
	"sello/internal/signing"
)

// corpusRect is a visible signature that fits page 0 of every corpus file.
const corpusRect = "36,36,186,96"

// errorReasons are the texts a refused corpus file may get.
var errorReasons = map[string]bool{
	"The document is not a PDF file.":                                          true,
	"The document has data before its PDF header and cannot be signed safely.": true,
	"The document is encrypted and cannot be signed.":                          true,
	"The document's permissions do not allow signing.":                         true,
	"The document is certified against any change and cannot be signed.":       true,
	"The document is incomplete (truncated) and cannot be signed.":             true,
	"The document is damaged and cannot be signed.":                            true,
	"The document uses a compression the service does not support.":            true,
	"The document exceeds the service's limits on PDF structure.":              true,
}

// fullyVerified are the corpus files whose signed result goes through the
// whole independent verifier here (a few seconds each); package pades runs
// it on every file. The others get the byte-prefix and qpdf checks.
var fullyVerified = map[string]bool{
	"s04-rotated-pages.pdf":         true,
	"s10-already-signed-twice.pdf":  true,
	"s26-rotate90-offset-boxes.pdf": true,
	"s28-multi-incremental.pdf":     true,
}

// mustPAdESEnv is the production server with the real signer and an
// on-demand CA.
func mustPAdESEnv(t testing.TB, handler SignHandlerOptions) *signEnv {
	t.Helper()
	root := pkitest.NewCA(t, pkitest.Options{CommonName: "Sello Test CA"})
	return mustSignEnv(t, envOptions{
		handler: handler,
		service: signing.Options{
			Sign: signing.PAdES,
			Keys: signing.CAKeys{CA: ca.New(root.Signer(), root.Certificate(), ca.Options{Country: "CO"})},
		},
	})
}

// mustVerify runs the independent verifier on a signed file.
func mustVerify(t *testing.T, verifier, original string, signed []byte, extra ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{original, path}, extra...)
	out, err := exec.Command(verifier, args...).CombinedOutput()
	if err != nil {
		t.Errorf("verify-signed.sh %s: %v\n%s", filepath.Base(original), err, out)
	}
}

// mustExtend checks that signed is an incremental update of original that
// qpdf reads without error.
func mustExtend(t *testing.T, original string, signed []byte) {
	t.Helper()
	orig, err := os.ReadFile(original)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed) <= len(orig) || !bytes.Equal(signed[:len(orig)], orig) {
		t.Fatalf("signed file (%d bytes) does not start with the %d original bytes", len(signed), len(orig))
	}
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

// TestSignDocumentsCorpus sends every corpus file in one request and checks
// each outcome against the manifest: a signed file that the independent
// verifiers accept, or a FAIL with a clear errorReason.
func TestSignDocumentsCorpus(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("signs and verifies every corpus file")
	}
	entries := corpus.Manifest(t)
	dir := corpus.Dir(t)
	verifier := corpus.Verifier(t)
	env := mustPAdESEnv(t, SignHandlerOptions{MaxDocuments: len(entries) + 1})

	var fields []field
	for i, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields,
			field{name: fmt.Sprintf("documentPairs[%d].referenceNumber", i), value: e.File},
			field{name: fmt.Sprintf("documentPairs[%d].document", i), value: string(b), file: e.File})
	}
	// A real PNG named .pdf rides along and must fail on its own.
	pngIndex := len(entries)
	fields = append(fields,
		field{name: fmt.Sprintf("documentPairs[%d].referenceNumber", pngIndex), value: "picture"},
		field{name: fmt.Sprintf("documentPairs[%d].document", pngIndex), value: mustPNG(t), file: "picture.pdf"})
	fields = append(fields,
		field{name: "clientInfo", value: "tx-corpus"},
		field{name: "x1", value: "36"}, field{name: "y1", value: "36"},
		field{name: "x2", value: "186"}, field{name: "y2", value: "96"},
		field{name: "signaturePage", value: "0"})
	body, ct := multipartBody(t, fields)
	resp, b := env.post(t, body, ct)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %.500s", resp.StatusCode, b)
	}
	got := mustDecode[signResponse](t, b)
	if len(got.SignedDocuments) != len(entries)+1 {
		t.Fatalf("%d results for %d documents", len(got.SignedDocuments), len(entries)+1)
	}
	if png := got.SignedDocuments[pngIndex]; png.Status != "FAIL" || png.ErrorReason == nil || *png.ErrorReason != "The document is not a PDF file." || png.SignedDocument != nil {
		t.Errorf("PNG named .pdf: %+v, want FAIL \"The document is not a PDF file.\"", png)
	}
	for i, e := range entries {
		d := got.SignedDocuments[i]
		t.Run(e.File, func(t *testing.T) {
			t.Parallel()
			if d.ReferenceNumber != e.File {
				t.Fatalf("result %d is for %q", i, d.ReferenceNumber)
			}
			reason := ""
			if d.ErrorReason != nil {
				reason = *d.ErrorReason
			}
			switch {
			case d.Status == "SUCCESS" && e.Expected == "reject" && e.File != "s24-broken-startxref.pdf":
				t.Errorf("signed, want a refusal (%s)", e.Reason)
			case d.Status == "FAIL" && e.Expected == "sign" && e.File != "s22-aes256-empty-userpw.pdf":
				t.Errorf("refused with %q, want a signed file (%s)", reason, e.Features)
			case d.Status == "FAIL" && !errorReasons[reason]:
				t.Errorf("refused with errorReason %q, not one of the fixed texts", reason)
			case d.Status == "SUCCESS":
				signed, err := base64.StdEncoding.DecodeString(*d.SignedDocument)
				if err != nil {
					t.Fatal(err)
				}
				original := filepath.Join(dir, e.File)
				if fullyVerified[e.File] {
					mustVerify(t, verifier, original, signed, "--page", "0", "--rect", corpusRect, "--expect-signer", "José Núñez")
					return
				}
				mustExtend(t, original, signed)
			}
		})
	}
}

// TestSignDocumentsSpecExampleVerified runs the specification's curl
// command, as written, against the real signer and checks the result with
// the independent verifiers.
func TestSignDocumentsSpecExampleVerified(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	original := filepath.Join(corpus.Dir(t), "s01-google-docs.pdf")
	verifier := corpus.Verifier(t)
	env := mustPAdESEnv(t, SignHandlerOptions{})
	out, err := exec.CommandContext(t.Context(), curl, "-X", "POST",
		env.url,
		"-H", "accept: application/json",
		"-H", "Content-Type: multipart/form-data",
		"-H", "x-account-id: your_account_id",
		"-H", "x-project-id: your_project_id",
		"-H", "Authorization: Bearer "+env.token,
		"-F", "documentPairs[0].referenceNumber=ref123",
		"-F", "documentPairs[0].document=@"+original,
		"-F", "clientInfo=transactionNumber",
		"-F", "x1=300",
		"-F", "y1=300",
		"-F", "x2=500",
		"-F", "y2=150",
		"-F", "signaturePage=0",
	).Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	got := mustDecode[signResponse](t, out)
	if len(got.SignedDocuments) != 1 || got.SignedDocuments[0].Status != "SUCCESS" {
		t.Fatalf("response %.500s", out)
	}
	signed, err := base64.StdEncoding.DecodeString(*got.SignedDocuments[0].SignedDocument)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, verifier, original, signed, "--page", "0", "--rect", "300,300,500,150")
}

// mustPNG returns a small PNG image.
func mustPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSignDocumentsConcurrentPAdES sends 16 requests at once through the
// real signer, each with two corpus documents, and checks every signed file
// extends its original.
func TestSignDocumentsConcurrentPAdES(t *testing.T) {
	t.Parallel()
	dir := corpus.Dir(t)
	names := []string{"s01-google-docs.pdf", "s07-pdf20-simple.pdf", "s13-hybrid-xref-msword-style.pdf", "s21-qdf.pdf"}
	docs := make(map[string][]byte)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		docs[n] = b
	}
	env := mustPAdESEnv(t, SignHandlerOptions{})
	pairOf := func(c int) []string { return []string{names[c%len(names)], names[(c+1)%len(names)]} }
	postConcurrently(t, env, 16, func(c int) []field {
		var fields []field
		for i, n := range pairOf(c) {
			fields = append(fields,
				field{name: fmt.Sprintf("documentPairs[%d].referenceNumber", i), value: n},
				field{name: fmt.Sprintf("documentPairs[%d].document", i), value: string(docs[n]), file: n})
		}
		return append(fields, field{name: "clientInfo", value: fmt.Sprint("tx-", c)})
	}, func(c int, r signResponse) []error {
		var errs []error
		pair := pairOf(c)
		for i, d := range r.SignedDocuments {
			if d.Status != "SUCCESS" || d.ReferenceNumber != pair[i] {
				errs = append(errs, fmt.Errorf("client %d document %d: %+v", c, i, d))
				continue
			}
			signed, err := base64.StdEncoding.DecodeString(*d.SignedDocument)
			if err != nil || !bytes.HasPrefix(signed, docs[pair[i]]) || len(signed) == len(docs[pair[i]]) {
				errs = append(errs, fmt.Errorf("client %d document %d: signed file does not extend its original (%v)", c, i, err))
			}
		}
		return errs
	})
	mustEmptyDir(t, env.tempDir)
}
