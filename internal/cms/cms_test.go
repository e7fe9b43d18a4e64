package cms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/keys"
	"sello/internal/pkitest"
)

type signCase struct {
	name string
	kt   pkitest.KeyType
	hash crypto.Hash
	pss  bool
}

func signCases() []signCase {
	var cases []signCase
	for _, kt := range pkitest.KeyTypes() {
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			cases = append(cases, signCase{kt.String() + "/" + h.String(), kt, h, false})
			if kt == pkitest.RSA2048 || kt == pkitest.RSA3072 {
				cases = append(cases, signCase{kt.String() + "/" + h.String() + "/PSS", kt, h, true})
			}
		}
	}
	return cases
}

func mustKey(t testing.TB, kt pkitest.KeyType) *keys.Key {
	t.Helper()
	ca := pkitest.NewCA(t, pkitest.Options{KeyType: kt})
	inter := ca.NewIntermediate(t, pkitest.Options{KeyType: kt})
	return inter.Issue(t, pkitest.Options{KeyType: kt, CommonName: "João Conceição"})
}

func digestOf(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

func TestSignParseVerify(t *testing.T) {
	t.Parallel()
	content := []byte("%PDF-1.7 pretend document bytes\n")
	for _, tc := range signCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := mustKey(t, tc.kt)
			opts := SignOptions{Signer: key.Signer, Chain: key.Chain, Hash: tc.hash, PSS: tc.pss}
			digest := digestOf(tc.hash, content)
			der, err := Sign(digest, opts)
			if err != nil {
				t.Fatalf("Sign() = %v", err)
			}
			max, err := MaxSize(opts)
			if err != nil {
				t.Fatalf("MaxSize() = %v", err)
			}
			if len(der) > max {
				t.Errorf("len(Sign()) = %d, more than MaxSize() = %d", len(der), max)
			}
			sd, err := Parse(der)
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if err := sd.Verify(digest); err != nil {
				t.Errorf("Verify() = %v", err)
			}
			if sd.Signer == nil || !sd.Signer.Equal(key.Chain[0]) {
				t.Errorf("Signer = %v, want the leaf", sd.Signer)
			}
			if got, want := sd.DigestAlgorithm, tc.hash; got != want {
				t.Errorf("DigestAlgorithm = %v, want %v", got, want)
			}
			if sd.Content != nil {
				t.Errorf("Content = %q, want detached", sd.Content)
			}
			if got, want := len(sd.Certificates), len(key.Chain); got != want {
				t.Errorf("len(Certificates) = %d, want %d", got, want)
			}
			var types []string
			for _, a := range sd.SignedAttrs {
				types = append(types, a.Type.String())
			}
			wantTypes := []string{oidAttrContentType.String(), oidAttrMessageDigest.String(), oidAttrSigningCertV2.String()}
			if diff := cmp.Diff(wantTypes, types); diff != "" {
				t.Errorf("signed attribute types (-want +got):\n%s", diff)
			}
			if !sd.SigningTime.IsZero() {
				t.Errorf("SigningTime = %v, want none", sd.SigningTime)
			}
			opensslVerify(t, der, content)
		})
	}
}

// opensslVerify checks der with an independent CMS implementation.
func opensslVerify(t *testing.T, der, content []byte) {
	t.Helper()
	sig := pkitest.TempFile(t, "sig.der", der)
	doc := pkitest.TempFile(t, "doc", content)
	pkitest.OpenSSL(t, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", doc, "-noverify", "-out", os.DevNull)
	out := pkitest.OpenSSL(t, "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig)
	for _, want := range []string{"signingCertificateV2", "messageDigest", "contentType"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("openssl cms -print output lacks %q", want)
		}
	}
	if bytes.Contains(out, []byte("signingTime")) {
		t.Error("openssl cms -print shows a signingTime attribute")
	}
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	key := mustKey(t, pkitest.ECDSAP256)
	other := pkitest.NewCA(t, pkitest.Options{CommonName: "Other CA"}).Issue(t, pkitest.Options{CommonName: "Other"})
	digest := digestOf(crypto.SHA256, []byte("document"))
	der, err := Sign(digest, SignOptions{Signer: key.Signer, Chain: key.Chain})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(sd *SignedData) []byte // returns the digest to verify
		want   Reason
	}{
		{"digest mismatch", func(sd *SignedData) []byte { return digestOf(crypto.SHA256, []byte("other")) }, ReasonDigestMismatch},
		{"bad signature", func(sd *SignedData) []byte {
			sd.signature = bytes.Clone(sd.signature)
			sd.signature[len(sd.signature)-3] ^= 1
			return digest
		}, ReasonBadSignature},
		{"wrong signer certificate", func(sd *SignedData) []byte { sd.Signer = other.Chain[0]; return digest }, ReasonSigningCertMismatch},
		{"no signer", func(sd *SignedData) []byte { sd.Signer = nil; return digest }, ReasonSignerNotFound},
		{"content type", func(sd *SignedData) []byte { sd.ContentType = oidTSTInfo; return digest }, ReasonContentTypeMismatch},
		{"no signed attributes", func(sd *SignedData) []byte { sd.signedAttrsDER = nil; return digest }, ReasonMissingAttribute},
		{"no timestamp", func(sd *SignedData) []byte { return nil }, ReasonMissingAttribute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sd, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			d := tc.mutate(sd)
			if d == nil {
				err = sd.VerifyTimestamp()
			} else {
				err = sd.Verify(d)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify() = %v, want a *VerifyError", err)
			}
			if ve.Reason != tc.want {
				t.Errorf("Verify() reason = %v, want %v", ve.Reason, tc.want)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	ec := mustKey(t, pkitest.ECDSAP256)
	rsaKey := mustKey(t, pkitest.RSA2048)
	digest := digestOf(crypto.SHA256, []byte("x"))
	tests := []struct {
		name   string
		digest []byte
		opts   SignOptions
		want   error
	}{
		{"no signer", digest, SignOptions{Chain: ec.Chain}, ErrInvalidOptions},
		{"no chain", digest, SignOptions{Signer: ec.Signer}, ErrInvalidOptions},
		{"key does not match certificate", digest, SignOptions{Signer: rsaKey.Signer, Chain: ec.Chain}, ErrInvalidOptions},
		{"short digest", digest[:20], SignOptions{Signer: ec.Signer, Chain: ec.Chain}, ErrInvalidOptions},
		{"SHA-1", digestOf(crypto.SHA1, []byte("x")), SignOptions{Signer: ec.Signer, Chain: ec.Chain, Hash: crypto.SHA1}, ErrUnsupported},
		{"PSS with ECDSA", digest, SignOptions{Signer: ec.Signer, Chain: ec.Chain, PSS: true}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Sign(tc.digest, tc.opts); !errors.Is(err, tc.want) {
				t.Errorf("Sign() = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestMaxSizeBound signs repeatedly: ECDSA signatures vary in length and
// none may exceed the bound.
func TestMaxSizeBound(t *testing.T) {
	t.Parallel()
	for _, kt := range []pkitest.KeyType{pkitest.ECDSAP256, pkitest.ECDSAP384} {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			key := mustKey(t, kt)
			opts := SignOptions{Signer: key.Signer, Chain: key.Chain}
			max, err := MaxSize(opts)
			if err != nil {
				t.Fatal(err)
			}
			longest := 0
			for i := range 200 {
				der, err := Sign(digestOf(crypto.SHA256, []byte{byte(i)}), opts)
				if err != nil {
					t.Fatal(err)
				}
				longest = max2(longest, len(der))
			}
			if longest > max {
				t.Errorf("longest signature %d bytes, MaxSize() = %d", longest, max)
			}
			if max-longest > 4 {
				t.Errorf("MaxSize() = %d is loose: longest seen %d", max, longest)
			}
		})
	}
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestTimestampAttribute(t *testing.T) {
	t.Parallel()
	key := mustKey(t, pkitest.RSA2048)
	tsaKey := pkitest.NewCA(t, pkitest.Options{CommonName: "TSA Root"}).Issue(t, pkitest.Options{
		CommonName:  "Test TSA",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	content := []byte("document")
	digest := digestOf(crypto.SHA256, content)
	der, err := Sign(digest, SignOptions{Signer: key.Signer, Chain: key.Chain})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	genTime := time.Date(2026, 12, 4, 21, 15, 0, 123000000, time.UTC)
	info := &TSTInfo{
		Policy:        []int{1, 3, 6, 1, 4, 1, 99999, 1},
		HashAlgorithm: crypto.SHA256,
		HashedMessage: digestOf(crypto.SHA256, sd.SignatureValue()),
		SerialNumber:  big.NewInt(42),
		GenTime:       genTime,
		Accuracy:      1500 * time.Millisecond,
		Nonce:         big.NewInt(7),
	}
	infoDER, err := info.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	token, err := SignContent(infoDER, OIDTSTInfo, SignOptions{Signer: tsaKey.Signer, Chain: tsaKey.Chain[:1]})
	if err != nil {
		t.Fatal(err)
	}
	withTS, err := AddUnsignedAttribute(der, TimestampAttribute(token))
	if err != nil {
		t.Fatalf("AddUnsignedAttribute() = %v", err)
	}
	sd2, err := Parse(withTS)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if err := sd2.Verify(digest); err != nil {
		t.Errorf("Verify() after adding the token = %v", err)
	}
	if err := sd2.VerifyTimestamp(); err != nil {
		t.Errorf("VerifyTimestamp() = %v", err)
	}
	if sd2.Timestamp == nil {
		t.Fatal("Timestamp = nil")
	}
	if diff := cmp.Diff(info, sd2.Timestamp.Info, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("TSTInfo (-want +got):\n%s", diff)
	}
	opensslVerify(t, withTS, content)

	// The same token over another signature must not verify.
	other, err := Sign(digest, SignOptions{Signer: key.Signer, Chain: key.Chain, PSS: true, UnsignedAttrs: []Attribute{TimestampAttribute(token)}})
	if err != nil {
		t.Fatal(err)
	}
	sd3, err := Parse(other)
	if err != nil {
		t.Fatal(err)
	}
	var ve *VerifyError
	if err := sd3.VerifyTimestamp(); !errors.As(err, &ve) || ve.Reason != ReasonTimestampMismatch {
		t.Errorf("VerifyTimestamp() on another signature = %v, want ReasonTimestampMismatch", err)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	key := mustKey(t, pkitest.ECDSAP256)
	der, err := Sign(digestOf(crypto.SHA256, nil), SignOptions{Signer: key.Signer, Chain: key.Chain})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated", der[:len(der)/2]},
		{"one byte short", der[:len(der)-1]},
		{"trailing garbage", append(bytes.Clone(der), 1, 2, 3)},
		{"not signedData", bytes.Replace(bytes.Clone(der), []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03}, 1)},
		{"too large", make([]byte, MaxInput+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse(tc.in); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse() = %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("zero padding", func(t *testing.T) {
		t.Parallel()
		if _, err := Parse(append(bytes.Clone(der), make([]byte, 100)...)); err != nil {
			t.Errorf("Parse(padded) = %v, want nil", err)
		}
	})
}

func FuzzParse(f *testing.F) {
	key := mustKey(f, pkitest.ECDSAP256)
	der, err := Sign(digestOf(crypto.SHA256, nil), SignOptions{Signer: key.Signer, Chain: key.Chain})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	for _, s := range corpusSignatures(f) {
		f.Add(s.der)
	}
	if seeds, _ := filepath.Glob("testdata/*.der"); len(seeds) > 0 {
		for _, s := range seeds {
			b, err := os.ReadFile(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sd, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Parse() = %v, not ErrMalformed or ErrUnsupported", err)
			}
			return
		}
		if !sd.DigestAlgorithm.Available() {
			t.Fatalf("DigestAlgorithm = %v, not usable", sd.DigestAlgorithm)
		}
		// Verification of anything parsed must not panic either.
		_ = sd.Verify(make([]byte, 32))
		_ = sd.VerifyTimestamp()
		if _, err := AddUnsignedAttribute(in, TimestampAttribute([]byte{0x30, 0})); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("AddUnsignedAttribute() = %v", err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	for _, kt := range pkitest.KeyTypes() {
		b.Run(kt.String(), func(b *testing.B) {
			key := mustKey(b, kt)
			opts := SignOptions{Signer: key.Signer, Chain: key.Chain}
			digest := sha256.Sum256([]byte("document"))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(digest[:], opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestAddTimestamp(t *testing.T) {
	t.Parallel()
	key := mustKey(t, pkitest.ECDSAP384)
	tsaKey := pkitest.NewCA(t, pkitest.Options{CommonName: "TSA Root"}).Issue(t, pkitest.Options{CommonName: "TSA", TimeStamping: true})
	digest := digestOf(crypto.SHA384, []byte("document"))
	der, err := Sign(digest, SignOptions{Signer: key.Signer, Chain: key.Chain, Hash: crypto.SHA384})
	if err != nil {
		t.Fatal(err)
	}
	stampBy := func(signer *keys.Key, fixed []byte) func(context.Context, []byte, crypto.Hash) ([]byte, error) {
		return func(_ context.Context, d []byte, h crypto.Hash) ([]byte, error) {
			if fixed != nil {
				d = fixed
			}
			info := &TSTInfo{Policy: []int{2, 999, 1}, HashAlgorithm: h, HashedMessage: d, SerialNumber: big.NewInt(1), GenTime: time.Now()}
			b, err := info.Marshal()
			if err != nil {
				return nil, err
			}
			return SignContent(b, OIDTSTInfo, SignOptions{Signer: signer.Signer, Chain: signer.Chain[:1]})
		}
	}
	stampOver := func(fixed []byte) func(context.Context, []byte, crypto.Hash) ([]byte, error) {
		return stampBy(tsaKey, fixed)
	}
	errTSA := errors.New("tsa down")
	tests := []struct {
		name   string
		stamp  func(context.Context, []byte, crypto.Hash) ([]byte, error)
		want   error
		reason Reason
	}{
		{name: "good", stamp: stampOver(nil)},
		{name: "imprint of something else", stamp: stampOver(make([]byte, 32)), reason: ReasonTimestampMismatch},
		{name: "not a TSA certificate", stamp: stampBy(key, nil), reason: ReasonTimestampMismatch},
		{name: "stamp fails", stamp: func(context.Context, []byte, crypto.Hash) ([]byte, error) { return nil, errTSA }, want: errTSA},
		{name: "not a token", stamp: func(context.Context, []byte, crypto.Hash) ([]byte, error) { return []byte{0x30, 0}, nil }, want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := AddTimestamp(t.Context(), der, crypto.SHA256, tc.stamp)
			switch {
			case tc.reason != 0:
				var ve *VerifyError
				if !errors.As(err, &ve) || ve.Reason != tc.reason {
					t.Fatalf("AddTimestamp() = %v, want reason %v", err, tc.reason)
				}
			case tc.want != nil:
				if !errors.Is(err, tc.want) {
					t.Fatalf("AddTimestamp() = %v, want %v", err, tc.want)
				}
			default:
				if err != nil {
					t.Fatalf("AddTimestamp() = %v", err)
				}
				sd, err := Parse(out)
				if err != nil {
					t.Fatal(err)
				}
				if err := sd.Verify(digest); err != nil {
					t.Errorf("Verify() = %v", err)
				}
			}
		})
	}
}

// TestSignerAmbiguous embeds two certificates with the same issuer and
// serial number: the signingCertificateV2 reference picks the signer.
func TestSignerAmbiguous(t *testing.T) {
	t.Parallel()
	for _, kt := range []pkitest.KeyType{pkitest.ECDSAP256, pkitest.RSA2048} {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			signer := pkitest.NewCA(t, pkitest.Options{CommonName: "Dup", KeyType: kt})
			otherType := pkitest.RSA2048
			if kt == pkitest.RSA2048 {
				otherType = pkitest.ECDSAP256
			}
			other := pkitest.NewCA(t, pkitest.Options{CommonName: "Dup", KeyType: otherType})
			digest := digestOf(crypto.SHA256, nil)
			der, err := Sign(digest, SignOptions{Signer: signer.Signer(), Chain: []*x509.Certificate{signer.Certificate(), other.Certificate()}})
			if err != nil {
				t.Fatal(err)
			}
			sd, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if !sd.Signer.Equal(signer.Certificate()) {
				t.Errorf("Signer is the other certificate")
			}
			if err := sd.Verify(digest); err != nil {
				t.Errorf("Verify() = %v", err)
			}
		})
	}
}

func FuzzParseTSTInfo(f *testing.F) {
	info := &TSTInfo{Policy: []int{2, 999, 1}, HashAlgorithm: crypto.SHA256, HashedMessage: make([]byte, 32),
		SerialNumber: big.NewInt(5), GenTime: time.Date(2026, 1, 2, 3, 4, 5, 6000000, time.UTC), Accuracy: 1001 * time.Millisecond, Nonce: big.NewInt(9)}
	b, err := info.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseTSTInfo(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseTSTInfo() = %v, not ErrMalformed", err)
			}
			return
		}
		if got.HashAlgorithm == 0 || got.Ordering {
			return // Marshal writes neither
		}
		again, err := got.Marshal()
		if err != nil {
			return
		}
		back, err := ParseTSTInfo(again)
		if err != nil {
			t.Fatalf("ParseTSTInfo(Marshal()) = %v", err)
		}
		if diff := cmp.Diff(got, back, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
			t.Fatalf("round trip (-parsed +again):\n%s", diff)
		}
	})
}

// toBER rewrites every constructed element of a DER encoding with an
// indefinite length and splits OCTET STRINGs longer than 16 bytes into
// chunks, as BER signers do.
func toBER(t *testing.T, der []byte) []byte {
	t.Helper()
	var out []byte
	for len(der) > 0 {
		tag, content, rest, _, err := readBERHeader(der)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tag[0]&0x20 != 0:
			out = append(out, tag...)
			out = append(out, 0x80)
			out = append(out, toBER(t, content)...)
			out = append(out, 0, 0)
		case tag[0] == 0x04 && len(content) > 16:
			out = append(out, 0x24, 0x80)
			for len(content) > 0 {
				n := min(16, len(content))
				out = appendDER(out, []byte{0x04}, content[:n])
				content = content[n:]
			}
			out = append(out, 0, 0)
		default:
			out = appendDER(out, tag, content)
		}
		der = rest
	}
	return out
}

func TestParseBER(t *testing.T) {
	t.Parallel()
	key := mustKey(t, pkitest.ECDSAP256)
	tsaKey := pkitest.NewCA(t, pkitest.Options{CommonName: "TSA Root"}).Issue(t, pkitest.Options{CommonName: "TSA", TimeStamping: true})
	digest := digestOf(crypto.SHA256, []byte("document"))
	detached, err := Sign(digest, SignOptions{Signer: key.Signer, Chain: key.Chain})
	if err != nil {
		t.Fatal(err)
	}
	info := &TSTInfo{Policy: []int{2, 999, 1}, HashAlgorithm: crypto.SHA256, HashedMessage: digest, SerialNumber: big.NewInt(3), GenTime: time.Now()}
	infoDER, err := info.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	token, err := SignContent(infoDER, OIDTSTInfo, SignOptions{Signer: tsaKey.Signer, Chain: tsaKey.Chain[:1]})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		der    []byte
		verify func(*SignedData) error
	}{
		{"detached", toBER(t, detached), func(sd *SignedData) error { return sd.Verify(digest) }},
		{"detached, zero padded", append(toBER(t, detached), 0, 0, 0, 0), func(sd *SignedData) error { return sd.Verify(digest) }},
		{"chunked eContent", toBER(t, token), func(sd *SignedData) error { return sd.VerifyContent() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseDER(tc.der, true); err == nil {
				t.Fatal("test input is valid DER; want BER")
			}
			sd, err := Parse(tc.der)
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if err := tc.verify(sd); err != nil {
				t.Errorf("verify = %v", err)
			}
		})
	}
	t.Run("too deep", func(t *testing.T) {
		t.Parallel()
		deep := bytes.Repeat([]byte{0x30, 0x80}, maxBERDepth+2)
		deep = append(deep, make([]byte, 2*(maxBERDepth+2))...)
		if _, err := Parse(deep); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse() = %v, want ErrMalformed", err)
		}
	})
	t.Run("unterminated", func(t *testing.T) {
		t.Parallel()
		ber := toBER(t, detached)
		if _, err := Parse(ber[:len(ber)-2]); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse() = %v, want ErrMalformed", err)
		}
	})
}

func TestSignDuplicateCertificates(t *testing.T) {
	t.Parallel()
	key := mustKey(t, pkitest.ECDSAP256)
	chain := append(append([]*x509.Certificate{}, key.Chain...), key.Chain...)
	der, err := Sign(digestOf(crypto.SHA256, nil), SignOptions{Signer: key.Signer, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(sd.Certificates), len(key.Chain); got != want {
		t.Errorf("len(Certificates) = %d, want %d", got, want)
	}
}
