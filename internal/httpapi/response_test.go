package httpapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

func TestBase64Writer(t *testing.T) {
	t.Parallel()
	encoders := map[string]encodeFunc{"std": base64.StdEncoding.Encode, "simd": simdBase64}
	sizes := []int{0, 1, 2, 3, 4, 5, 100, b64Chunk - 1, b64Chunk, b64Chunk + 1, 3*b64Chunk + 2, 1 << 20}
	for name, enc := range encoders {
		for _, size := range sizes {
			for _, via := range []string{"Write", "ReadFrom", "OneByteReader"} {
				t.Run(fmt.Sprintf("%s/%d/%s", name, size, via), func(t *testing.T) {
					t.Parallel()
					src := make([]byte, size)
					for i := range src {
						src[i] = byte(i*7 + i>>8)
					}
					var out bytes.Buffer
					w := newBase64Writer(&out, enc)
					var err error
					switch via {
					case "Write":
						// Uneven writes cross chunk boundaries.
						for p := src; len(p) > 0 && err == nil; {
							k := min(len(p), 1000)
							_, err = w.Write(p[:k])
							p = p[k:]
						}
					case "ReadFrom":
						_, err = io.Copy(w, bytes.NewReader(src))
					case "OneByteReader":
						_, err = w.ReadFrom(iotest.OneByteReader(bytes.NewReader(src)))
					}
					if err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if want := base64.StdEncoding.EncodeToString(src); out.String() != want {
						t.Errorf("encoding of %d bytes differs from encoding/base64 (got %d chars, want %d)", size, out.Len(), len(want))
					}
				})
			}
		}
	}
}

// BenchmarkBase64Writer compares encoding/base64 with the SIMD encoder on a
// 5 MB document streamed through the writer, as the response does.
func BenchmarkBase64Writer(b *testing.B) {
	src := make([]byte, 5<<20)
	for i := range src {
		src[i] = byte(i * 31)
	}
	for _, bc := range []struct {
		name string
		enc  encodeFunc
	}{{"std", base64.StdEncoding.Encode}, {"simd", simdBase64}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				w := newBase64Writer(io.Discard, bc.enc)
				if _, err := io.Copy(w, bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
		})
	}
}
