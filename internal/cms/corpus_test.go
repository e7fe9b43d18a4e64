package cms

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"sello/internal/corpus"
)

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// corpusSignature is one signature found in a corpus PDF: the /Contents
// bytes and the bytes its /ByteRange covers.
type corpusSignature struct {
	name   string
	der    []byte
	signed []byte
}

// corpusSignatures scans the real-world PDFs that hold signatures made by
// other software. It finds /ByteRange arrays with a regular expression,
// which is enough for these files and keeps this package free of a PDF
// parser.
func corpusSignatures(tb testing.TB) []corpusSignature {
	tb.Helper()
	root := corpus.Root()
	if root == "" {
		return nil
	}
	files := []string{"s10-already-signed-twice.pdf", "s11-pades-lta-doctimestamp.pdf", "s12-certified-docmdp-p1.pdf"}
	var out []corpusSignature
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, "corpus", f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		for i, m := range byteRangeRE.FindAllSubmatch(b, -1) {
			var n [4]int
			for j := range n {
				n[j], _ = strconv.Atoi(string(m[j+1]))
			}
			if n[0] != 0 || n[1] >= n[2] || n[2]+n[3] > len(b) {
				tb.Fatalf("%s: odd ByteRange %v", f, n)
			}
			hexStr := bytes.Trim(b[n[1]:n[2]], "<>")
			der, err := hex.DecodeString(string(hexStr))
			if err != nil {
				tb.Fatalf("%s: /Contents: %v", f, err)
			}
			signed := append(bytes.Clone(b[:n[1]]), b[n[2]:n[2]+n[3]]...)
			out = append(out, corpusSignature{f + "#" + strconv.Itoa(i), der, signed})
		}
	}
	return out
}

func TestCorpusSignatures(t *testing.T) {
	t.Parallel()
	sigs := corpusSignatures(t)
	if len(sigs) == 0 {
		corpus.Require(t, "corpus", "the shared corpus is not present")
	}
	for _, s := range sigs {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			sd, err := Parse(s.der)
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if sd.DigestAlgorithm == 0 {
				t.Fatal("unknown digest algorithm")
			}
			h := sd.DigestAlgorithm.New()
			h.Write(s.signed)
			digest := h.Sum(nil)
			if sd.ContentType.Equal(OIDTSTInfo) {
				// A document time-stamp (ETSI.RFC3161): the token's
				// imprint covers the byte range.
				info, err := ParseTSTInfo(sd.Content)
				if err != nil {
					t.Fatalf("ParseTSTInfo() = %v", err)
				}
				ih := info.HashAlgorithm.New()
				ih.Write(s.signed)
				if !bytes.Equal(ih.Sum(nil), info.HashedMessage) {
					t.Error("document time-stamp imprint does not match the byte range")
				}
				if err := sd.VerifyContent(); err != nil {
					t.Errorf("VerifyContent() = %v", err)
				}
				return
			}
			if err := sd.Verify(digest); err != nil {
				t.Errorf("Verify() = %v", err)
			}
			if sd.Timestamp != nil {
				if err := sd.VerifyTimestamp(); err != nil {
					t.Errorf("VerifyTimestamp() = %v", err)
				}
			}
		})
	}
}
