package httpapi

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"sello/internal/corpus"
)

// BenchmarkSignRequest measures one POST /sign-documents with one 80 KB
// document through the whole server: token check, multipart, on-demand
// certificate, PAdES signature, audit row in SQLite, streamed response.
func BenchmarkSignRequest(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join(corpus.Dir(b), "s01-google-docs.pdf"))
	if err != nil {
		b.Fatal(err)
	}
	env := mustPAdESEnv(b, SignHandlerOptions{})
	body, ct := multipartBody(b, []field{
		{name: "documentPairs[0].referenceNumber", value: "bench"},
		{name: "documentPairs[0].document", value: string(doc), file: "doc.pdf"},
		{name: "clientInfo", value: "tx-bench"},
		{name: "x1", value: "300"}, {name: "y1", value: "300"}, {name: "x2", value: "500"}, {name: "y2", value: "150"},
	})
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		resp, out := env.post(b, body, ct)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %.300s", resp.StatusCode, out)
		}
	}
}
