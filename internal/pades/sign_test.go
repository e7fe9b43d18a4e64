package pades_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sello/internal/corpus"
	"sello/internal/keys"
	"sello/internal/pades"
	"sello/internal/pkitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenKey is a deterministic RSA key and certificate: PKCS#1 v1.5
// signatures are deterministic, so the whole signed file is reproducible.
func goldenKey(t testing.TB) *keys.Key {
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "Golden CA", KeyType: pkitest.RSA2048})
	return ca.Issue(t, pkitest.Options{CommonName: "José Núñez", KeyType: pkitest.RSA2048})
}

var goldenTime = time.Date(2026, 12, 4, 16, 15, 3, 0, time.FixedZone("", -5*3600))

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSign(t testing.TB, data []byte, opts pades.Options) []byte {
	t.Helper()
	s, err := pades.Sign(t.Context(), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if int64(out.Len()) != s.Size() {
		t.Fatalf("WriteTo wrote %d bytes, Size() = %d", out.Len(), s.Size())
	}
	return out.Bytes()
}

// TestGolden compares the bytes appended to a small fixture, byte for byte,
// with testdata/minimal.golden: fixed clock, deterministic key. Run with
// -update to rewrite it, and read the diff.
func TestGolden(t *testing.T) {
	t.Parallel()
	orig := mustRead(t, "minimal.pdf")
	for _, tc := range []struct {
		name, golden string
		opts         pades.Options
	}{
		{"visible", "minimal-visible.golden", pades.Options{
			Rect: &pades.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150}, Name: "José Núñez",
			Identification: "CC 1020304050", Reason: "Contrato", Location: "São Paulo",
		}},
		{"invisible", "minimal-invisible.golden", pades.Options{Name: "José Núñez"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			opts.Key = goldenKey(t)
			opts.Time = goldenTime
			signed := mustSign(t, orig, opts)
			if !bytes.HasPrefix(signed, orig) {
				t.Fatal("the signed file does not begin with the original bytes")
			}
			tail := signed[len(orig):]
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, tail, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := mustRead(t, tc.golden)
			if !bytes.Equal(tail, want) {
				t.Errorf("appended bytes differ from %s (run go test -update and read the diff)\ngot:\n%.2000s", path, tail)
			}
		})
	}
}

// TestSignTwice signs a document, then signs the result again: both
// signatures must verify, the first covering its revision only.
func TestSignTwice(t *testing.T) {
	t.Parallel()
	key := goldenKey(t)
	orig := mustRead(t, "minimal.pdf")
	rect := &pades.Rect{X1: 50, Y1: 50, X2: 250, Y2: 120}
	once := mustSign(t, orig, pades.Options{Key: key, Rect: rect, Name: "First Signer", Time: goldenTime})
	rect2 := &pades.Rect{X1: 300, Y1: 50, X2: 500, Y2: 120}
	twice := mustSign(t, once, pades.Options{Key: key, Rect: rect2, Name: "Second Signer", Time: goldenTime.Add(time.Minute)})
	sigs, err := pades.Verify(bytes.NewReader(twice), int64(len(twice)))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 {
		t.Fatalf("Verify found %d signatures, want 2", len(sigs))
	}
	for i, s := range sigs {
		if s.Err != nil {
			t.Errorf("signature %d: %v", i, s.Err)
		}
	}
	if sigs[0].Field == sigs[1].Field {
		t.Errorf("both signatures use field %q", sigs[0].Field)
	}
	if sigs[0].WholeFile || sigs[0].Covered != int64(len(once)) || sigs[0].Revision != 2 {
		t.Errorf("first signature covers %d bytes (revision %d), want %d (revision 2)", sigs[0].Covered, sigs[0].Revision, len(once))
	}
	if !sigs[1].WholeFile || sigs[1].Revision != 3 || sigs[1].Revisions != 3 {
		t.Errorf("second signature: whole=%v revision %d of %d, want the whole file, revision 3 of 3", sigs[1].WholeFile, sigs[1].Revision, sigs[1].Revisions)
	}
	// poppler, which we did not write, must see two valid signatures too.
	if _, err := exec.LookPath("pdfsig"); err != nil {
		corpus.Require(t, "pdfsig", "pdfsig is not installed")
	}
	path := filepath.Join(t.TempDir(), "twice.pdf")
	if err := os.WriteFile(path, twice, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfsig", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	if n := bytes.Count(out, []byte("Signature Validation: Signature is Valid.")); n != 2 {
		t.Errorf("pdfsig reports %d valid signatures, want 2:\n%s", n, out)
	}
}

// TestVerifyDetectsChange flips one byte inside the signed range: the
// signature must be reported as not intact, with the digest reason.
func TestVerifyDetectsChange(t *testing.T) {
	t.Parallel()
	orig := mustRead(t, "minimal.pdf")
	signed := mustSign(t, orig, pades.Options{Key: goldenKey(t), Name: "X", Time: goldenTime})
	i := bytes.Index(signed, []byte("Golden fixture"))
	signed[i] = 'g'
	sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
	if err != nil {
		t.Fatal(err)
	}
	var ve *pades.VerifyError
	if len(sigs) != 1 || !errors.As(sigs[0].Err, &ve) || ve.Reason != pades.ReasonDigestMismatch {
		t.Fatalf("Verify = %+v, want one signature failing with ReasonDigestMismatch", sigs)
	}
}

// TestSignOptions covers the key types, digests and the refusals that do
// not need a corpus file.
func TestSignOptions(t *testing.T) {
	t.Parallel()
	orig := mustRead(t, "minimal.pdf")
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "Options CA"})
	rect := &pades.Rect{X1: 10, Y1: 10, X2: 200, Y2: 80}
	for _, tc := range []struct {
		name string
		kt   pkitest.KeyType
		opts pades.Options
		want error
	}{
		{"ecdsa-p256", pkitest.ECDSAP256, pades.Options{Rect: rect}, nil},
		{"ecdsa-p384-sha384", pkitest.ECDSAP384, pades.Options{Rect: rect, Hash: crypto.SHA384}, nil},
		{"rsa-pss-sha512", pkitest.RSA3072, pades.Options{Rect: rect, PSS: true, Hash: crypto.SHA512}, nil},
		{"invisible", pkitest.ECDSAP256, pades.Options{}, nil},
		{"last-page", pkitest.ECDSAP256, pades.Options{Rect: rect, Page: -1}, nil},
		{"page-out-of-range", pkitest.ECDSAP256, pades.Options{Rect: rect, Page: 1}, pades.ErrPageOutOfRange},
		{"negative-page-out-of-range", pkitest.ECDSAP256, pades.Options{Rect: rect, Page: -2}, pades.ErrPageOutOfRange},
		{"rect-outside", pkitest.ECDSAP256, pades.Options{Rect: &pades.Rect{X1: 500, Y1: 700, X2: 700, Y2: 800}}, pades.ErrRectOutsidePage},
		{"rect-empty", pkitest.ECDSAP256, pades.Options{Rect: &pades.Rect{X1: 10, Y1: 10, X2: 10, Y2: 80}}, pades.ErrEmptyRect},
		{"no-key", pkitest.ECDSAP256, pades.Options{}, pades.ErrNoKey},
		{"sha1", pkitest.ECDSAP256, pades.Options{Hash: crypto.SHA1}, pades.ErrUnsupportedHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			if tc.want != pades.ErrNoKey {
				opts.Key = ca.Issue(t, pkitest.Options{CommonName: "Signer " + tc.name, KeyType: tc.kt})
			}
			opts.Name, opts.Time = "Signer", goldenTime
			s, err := pades.Sign(t.Context(), bytes.NewReader(orig), int64(len(orig)), opts)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Sign = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			var out bytes.Buffer
			s.WriteTo(&out)
			sigs, err := pades.Verify(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
				t.Fatalf("Verify = %+v, %v; want one intact signature", sigs, err)
			}
		})
	}
}

// TestDigests checks the SHA-256 digests a signature reports, with and
// without the state kept from the signing pass.
func TestDigests(t *testing.T) {
	t.Parallel()
	orig := mustRead(t, "minimal.pdf")
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
		s, err := pades.Sign(t.Context(), bytes.NewReader(orig), int64(len(orig)), pades.Options{Key: goldenKey(t), Hash: h, Name: "X", Time: goldenTime})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		s.WriteTo(&out)
		o, sd, err := s.Digests()
		if err != nil {
			t.Fatal(err)
		}
		wantO, wantS := sha256.Sum256(orig), sha256.Sum256(out.Bytes())
		if !bytes.Equal(o, wantO[:]) || !bytes.Equal(sd, wantS[:]) {
			t.Errorf("%v: Digests() = %x, %x; want %x, %x", h, o, sd, wantO, wantS)
		}
	}
}
