package pades_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sello/internal/appearance"
	"sello/internal/pades"
	"sello/internal/pkitest"
)

// FuzzSign signs mutated documents: whatever the bytes, Sign returns a
// signed document or an error, never panics; and what it signs, Verify finds
// intact.
func FuzzSign(f *testing.F) {
	for _, name := range []string{"minimal.pdf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields 5 0 R/NeedAppearances true>>>>endobj\n" +
		"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 200 200]/Rotate 90>>endobj\n" +
		"3 0 obj<</Type/Page/Parent 2 0 R/Annots 4 0 R>>endobj\n4 0 obj[]endobj\n5 0 obj null endobj\n" +
		"trailer<</Root 1 0 R/Size 6>>\nstartxref\n0\n%%EOF\n"))
	key := pkitest.NewCA(f, pkitest.Options{CommonName: "Fuzz CA"}).
		Issue(f, pkitest.Options{CommonName: "Fuzz Signer", KeyType: pkitest.ECDSAP256})
	builder := new(appearance.Builder)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := pades.Options{
			Key: key, Appearance: builder, Name: "Fuzz Signer", Time: goldenTime,
			Rect: &pades.Rect{X1: 10, Y1: 10, X2: 120, Y2: 60},
		}
		s, err := pades.Sign(t.Context(), bytes.NewReader(data), int64(len(data)), opts)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := s.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out.Bytes(), data) {
			t.Fatal("the signed document does not begin with the original bytes")
		}
		sigs, err := pades.Verify(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("Verify of our own output: %v", err)
		}
		last := sigs[len(sigs)-1]
		if last.Err != nil || !last.WholeFile {
			t.Fatalf("our signature: %+v", last)
		}
	})
}

// FuzzVerify checks signatures of mutated signed documents: Verify returns
// signatures or an error, never panics, and a signature it calls intact
// really covers bytes that hash to what was signed.
func FuzzVerify(f *testing.F) {
	orig, err := os.ReadFile(filepath.Join("testdata", "minimal.pdf"))
	if err != nil {
		f.Fatal(err)
	}
	key := pkitest.NewCA(f, pkitest.Options{CommonName: "Fuzz CA"}).
		Issue(f, pkitest.Options{CommonName: "Fuzz Signer", KeyType: pkitest.ECDSAP256})
	s, err := pades.Sign(f.Context(), bytes.NewReader(orig), int64(len(orig)), pades.Options{Key: key, Name: "Fuzz Signer", Time: goldenTime})
	if err != nil {
		f.Fatal(err)
	}
	var signed bytes.Buffer
	s.WriteTo(&signed)
	f.Add(signed.Bytes())
	f.Add(orig)
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, err := pades.Verify(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, sig := range sigs {
			if sig.Err == nil && (sig.ByteRange[0] != 0 || sig.Covered > int64(len(data))) {
				t.Fatalf("intact signature with an impossible byte range %v in %d bytes", sig.ByteRange, len(data))
			}
		}
	})
}
