package client_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeService is an httptest server that speaks the wire format of the
// Sello API (DESIGN.md §1): POST /token and POST /sign-documents. Its
// "signed" document is the original followed by "%signed". It checks the
// token before reading the body, as the real service does.
type fakeService struct {
	srv      *httptest.Server
	id       string
	secret   string
	lifetime int64 // expires_in of issued tokens

	mu       sync.Mutex
	issued   int             // tokens issued
	valid    map[string]bool // tokens accepted
	requests []fakeRequest   // sign-documents requests that reached the body
}

// fakeRequest is what the fake received in one POST /sign-documents.
type fakeRequest struct {
	header http.Header
	fields map[string]string // text fields, and documents as their bytes
	files  map[string]string // document field → "filename content-type"
}

func newFakeService(t testing.TB) *fakeService {
	t.Helper()
	f := startFakeService()
	t.Cleanup(f.srv.Close)
	return f
}

// startFakeService starts a fakeService; the caller closes f.srv.
func startFakeService() *fakeService {
	f := &fakeService{id: "client-1", secret: "s3cret", lifetime: 3600, valid: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /sign-documents", f.sign)
	f.srv = httptest.NewServer(mux)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req-1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (f *fakeService) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeError(w, http.StatusBadRequest, "Unsupported grant_type: only client_credentials is accepted.")
		return
	}
	if r.PostForm.Get("client_id") != f.id || r.PostForm.Get("client_secret") != f.secret {
		writeError(w, http.StatusBadRequest, "Invalid credentials.")
		return
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("token-%d", f.issued)
	f.valid[tok] = true
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": f.lifetime})
}

// revokeAll makes every token issued so far invalid.
func (f *fakeService) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.valid)
}

func (f *fakeService) tokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

func (f *fakeService) received() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeService) sign(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok = ok && f.valid[tok]
	f.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "Token not provided or invalid.")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "The request must be multipart/form-data.")
		return
	}
	req := fakeRequest{header: r.Header.Clone(), fields: map[string]string{}, files: map[string]string{}}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "The multipart body could not be read.")
			return
		}
		b, err := io.ReadAll(p)
		if err != nil {
			writeError(w, http.StatusBadRequest, "The multipart body could not be read.")
			return
		}
		req.fields[p.FormName()] = string(b)
		if p.FileName() != "" {
			req.files[p.FormName()] = p.FileName() + " " + p.Header.Get("Content-Type")
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if req.fields["clientInfo"] == "" || req.fields["documentPairs[0].document"] == "" {
		writeError(w, http.StatusBadRequest, "Missing documents or client information.")
		return
	}
	type result struct {
		ReferenceNumber string  `json:"referenceNumber"`
		DocumentID      string  `json:"documentId"`
		SignedDocument  *string `json:"signedDocument"`
		Status          string  `json:"status"`
		ErrorReason     *string `json:"errorReason"`
	}
	var results []result
	for i := 0; ; i++ {
		doc, ok := req.fields[fmt.Sprintf("documentPairs[%d].document", i)]
		if !ok {
			break
		}
		res := result{
			ReferenceNumber: req.fields[fmt.Sprintf("documentPairs[%d].referenceNumber", i)],
			DocumentID:      fmt.Sprintf("doc-%03d", i+1),
			Status:          "SUCCESS",
		}
		if strings.HasPrefix(doc, "%PDF-") {
			signed := base64.StdEncoding.EncodeToString([]byte(doc + "%signed"))
			res.SignedDocument = &signed
		} else {
			reason := "The document is not a PDF file."
			res.Status, res.ErrorReason = "FAIL", &reason
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"signedDocuments": results})
}
