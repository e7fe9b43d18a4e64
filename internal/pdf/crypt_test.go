package pdf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sello/internal/corpus"
)

func TestCorpusEncrypted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file          string
		needsPassword bool
		r             int
	}{
		{"s06-libreoffice-userpw.pdf", true, 0},
		{"s22-aes256-empty-userpw.pdf", false, 6},
		{"s23-aes256-userpw.pdf", true, 6},
	}
	mustManifest(t)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			r, err := mustOpenFile(t, filepath.Join(corpus.Dir(t), tc.file))
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			s := r.Security()
			if s == nil {
				t.Fatal("Security() = nil, want a handler")
			}
			if s.NeedsPassword != tc.needsPassword || tc.r != 0 && s.R != tc.r {
				t.Fatalf("Security() = NeedsPassword %v R %d, want %v %d", s.NeedsPassword, s.R, tc.needsPassword, tc.r)
			}
			p, err := r.Page(0)
			if tc.needsPassword && errors.Is(err, ErrEncrypted) {
				return // the page tree sits in an encrypted object stream
			}
			if err != nil {
				t.Fatalf("Page(0) error = %v", err)
			}
			c, err := r.Resolve(p.Dict["Contents"])
			if err != nil {
				t.Fatal(err)
			}
			if a, ok := c.(Array); ok {
				c, err = r.Resolve(a[0])
				if err != nil {
					t.Fatal(err)
				}
			}
			data, err := r.StreamData(c.(*Stream))
			if tc.needsPassword {
				if !errors.Is(err, ErrEncrypted) {
					t.Fatalf("StreamData() error = %v, want ErrEncrypted", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("StreamData() error = %v", err)
			}
			if !bytes.Contains(data, []byte("BT")) {
				t.Errorf("StreamData() = %.60q, want a content stream", data)
			}
		})
	}
}

// mustTool returns the path of an external tool, or skips the test when it
// is missing and SELLO_TEST_REQUIRE does not name it.
func mustTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if slices.Contains(strings.Split(os.Getenv("SELLO_TEST_REQUIRE"), ","), name) {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func TestDecryptQPDF(t *testing.T) {
	t.Parallel()
	qpdf := mustTool(t, "qpdf")
	objs := append(slices.Clone(basicObjs), testObj{num: 5, body: "<</Title(Hello \\(world\\))/Author<414243>>>"},
		testObj{num: 6, body: "<</Type/Metadata/Subtype/XML/Length 9>>\nstream\n<x:meta/>\nendstream"})
	objs[0].body = "<</Type/Catalog/Pages 2 0 R/Metadata 6 0 R>>"
	plain, _ := buildPDF(testRev{objs: objs, trailer: "/Root 1 0 R/Info 5 0 R/ID[<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>]"})
	dir := t.TempDir()
	in := filepath.Join(dir, "plain.pdf")
	if err := os.WriteFile(in, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		v, r int
		str  CryptMethod
	}{
		{"RC4 40-bit", []string{"40"}, 1, 2, CryptRC4},
		{"RC4 128-bit", []string{"128", "--use-aes=n"}, 2, 3, CryptRC4},
		{"AES 128-bit", []string{"128", "--use-aes=y"}, 4, 4, CryptAESV2},
		{"AES 256-bit", []string{"256"}, 5, 6, CryptAESV3},
		{"AES 256-bit R5", []string{"256", "--force-R5"}, 5, 5, CryptAESV3},
		{"AES 128-bit clear metadata", []string{"128", "--use-aes=y", "--cleartext-metadata"}, 4, 4, CryptAESV2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".pdf")
			args := append([]string{"--allow-weak-crypto", "--encrypt", "", "owner-pw"}, tc.args...)
			args = append(args, "--", "--object-streams=disable", in, out)
			if msg, err := exec.Command(qpdf, args...).CombinedOutput(); err != nil {
				t.Fatalf("qpdf %v: %v\n%s", args, err, msg)
			}
			r, err := mustOpenFile(t, out)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			s := r.Security()
			if s == nil || s.NeedsPassword || s.V != tc.v || s.R != tc.r || s.StrMethod != tc.str {
				t.Fatalf("Security() = %+v, want V %d R %d opened with the empty password", s, tc.v, tc.r)
			}
			if clear := strings.Contains(tc.name, "clear metadata"); s.EncryptMetadata == clear {
				t.Errorf("EncryptMetadata = %v, want %v", s.EncryptMetadata, !clear)
			}
			info, err := r.Resolve(r.Trailer()["Info"])
			if err != nil {
				t.Fatal(err)
			}
			got := map[Name]string{}
			for k, v := range info.(Dict) {
				b, _ := bytesOf(v)
				got[k] = string(b)
			}
			want := map[Name]string{"Title": "Hello (world)", "Author": "ABC"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			p, err := r.Page(0)
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Resolve(p.Dict["Contents"])
			if err != nil {
				t.Fatal(err)
			}
			if data, err := r.StreamData(c.(*Stream)); err != nil || string(data) != "hello" {
				t.Errorf("StreamData() = %q, %v, want \"hello\"", data, err)
			}
			cat, err := r.Catalog()
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Resolve(cat["Metadata"])
			if err != nil {
				t.Fatal(err)
			}
			if data, err := r.StreamData(m.(*Stream)); err != nil || string(data) != "<x:meta/>" {
				t.Errorf("metadata StreamData() = %q, %v, want \"<x:meta/>\"", data, err)
			}
			ref := Ref{Num: 42, Gen: 0}
			for _, plain := range [][]byte{nil, []byte("x"), []byte("sixteen bytes!!!"), bytes.Repeat([]byte("ab"), 40)} {
				enc, err := s.EncryptString(ref, plain)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := s.decrypt(ref, s.StrMethod, enc)
				if err != nil || !bytes.Equal(dec, plain) {
					t.Errorf("decrypt(EncryptString(%q)) = %q, %v", plain, dec, err)
				}
				enc, err = s.EncryptStream(ref, plain)
				if err != nil {
					t.Fatal(err)
				}
				dec, err = s.decryptStream(&Stream{ref: ref, Dict: Dict{}}, enc)
				if err != nil || !bytes.Equal(dec, plain) {
					t.Errorf("decryptStream(EncryptStream(%q)) = %q, %v", plain, dec, err)
				}
			}
		})
	}
}
