package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"sello/internal/auth"
	"sello/internal/identity"
	"sello/internal/keys"
	"sello/internal/pades"
	"sello/internal/pdf"
	"sello/internal/signing"
	"sello/internal/store/sqlite"
)

// Test doubles for the signing service's dependencies.

type stubIdentity struct{}

func (stubIdentity) Check(ctx context.Context, account, clientInfo string) (*identity.Signer, error) {
	if clientInfo == "unknown-tx" {
		return nil, &identity.RuleError{Rule: identity.RuleUnknown}
	}
	return &identity.Signer{Name: "José Núñez", IDType: "CC", IDNumber: "1020304050", Source: identity.SourceTransaction, Transaction: clientInfo}, nil
}

func (stubIdentity) Consume(ctx context.Context, account string, s *identity.Signer) error {
	return nil
}

type stubKeys struct{}

func (stubKeys) Key(ctx context.Context, s *identity.Signer) (*keys.Key, error) {
	return &keys.Key{}, nil
}

type memAudit struct {
	mu      sync.Mutex
	entries []signing.AuditEntry
	err     error
}

func (m *memAudit) Record(ctx context.Context, entries []signing.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.entries = append(m.entries, entries...)
	return nil
}

func (m *memAudit) all() []signing.AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]signing.AuditEntry(nil), m.entries...)
}

// fakeTail is what the fake signer appends to a document.
const fakeTail = "\n%%fake-signature\n"

type fakeSigned struct {
	src  io.ReaderAt
	size int64
}

func (f *fakeSigned) Size() int64 { return f.size + int64(len(fakeTail)) }

func (f *fakeSigned) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, io.NewSectionReader(f.src, 0, f.size))
	if err != nil {
		return n, err
	}
	m, err := io.WriteString(w, fakeTail)
	return n + int64(m), err
}

// fakeSign refuses what does not start with %PDF- and documents holding
// "/Encrypt", and pages beyond 4; it appends fakeTail to the rest.
func fakeSign(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
	b, err := io.ReadAll(io.NewSectionReader(src, 0, size))
	if err != nil {
		return nil, err
	}
	switch {
	case !bytes.HasPrefix(b, []byte("%PDF-")):
		return nil, fmt.Errorf("read header: %w", pdf.ErrNotPDF)
	case bytes.Contains(b, []byte("/Encrypt")):
		return nil, pades.ErrEncrypted
	case opts.Page > 4:
		return nil, pades.ErrPageOutOfRange
	}
	return &fakeSigned{src: src, size: size}, nil
}

// signEnv is the service's HTTP server, wired as in production (token
// endpoint, token check, request ids, the SQLite store as audit log), on a
// loopback port.
type signEnv struct {
	base  string // the server's base URL
	url   string // POST /sign-documents
	token string // a valid access token for testAccount and testProject
	// clientID is the API client the token was issued to.
	clientID string
	audit    auditLister
	tempDir  string
	handler  *signHandler
	// served receives once per request, after the sign handler returned.
	served chan struct{}
	// skew moves the token service's clock forward (nanoseconds).
	skew atomic.Int64
}

// auditLister reads back what the audit log recorded.
type auditLister interface {
	all() []signing.AuditEntry
}

// dbAudit reads the audit log of a SQLite store.
type dbAudit struct {
	t  testing.TB
	db *sqlite.DB
}

func (d dbAudit) all() []signing.AuditEntry {
	es, err := d.db.ListAudit(context.Background(), signing.AuditQuery{})
	if err != nil {
		d.t.Errorf("ListAudit: %v", err)
	}
	return es
}

type envOptions struct {
	handler SignHandlerOptions
	service signing.Options
}

const testIssuer = "http://sello.test"

// The test client's account and project: the specification's example
// values, so that its curl command runs unchanged.
const (
	testAccount = "your_account_id"
	testProject = "your_project_id"
)

func mustSignEnv(t testing.TB, o envOptions) *signEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "sello.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	master := bytes.Repeat([]byte{7}, auth.MasterKeySize)
	cheap := auth.HashParams{Memory: 64, Time: 1, Threads: 1}
	admin, err := auth.NewAdmin(auth.AdminOptions{Clients: db, Keys: db, MasterKey: master, Hash: cheap})
	if err != nil {
		t.Fatal(err)
	}
	client, secret, err := admin.CreateClient(ctx, auth.NewClient{Account: testAccount, Projects: []string{testProject}, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	env := &signEnv{tempDir: t.TempDir(), served: make(chan struct{}, 100), audit: dbAudit{t: t, db: db}}
	authSvc, err := auth.New(auth.Options{
		Clients: db, Keys: db, MasterKey: master, Issuer: testIssuer, Hash: cheap,
		Now: func() time.Time { return time.Now().Add(time.Duration(env.skew.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}

	if o.service.Identity == nil {
		o.service.Identity = stubIdentity{}
	}
	if o.service.Keys == nil {
		o.service.Keys = stubKeys{}
	}
	if o.service.Audit == nil {
		o.service.Audit = db
	} else if l, ok := o.service.Audit.(auditLister); ok {
		env.audit = l
	}
	if o.service.Sign == nil {
		o.service.Sign = fakeSign
	}
	svc, err := signing.New(o.service)
	if err != nil {
		t.Fatal(err)
	}
	o.handler.Signer = svc
	o.handler.TempDir = env.tempDir
	env.handler = NewSignHandler(o.handler).(*signHandler)
	srv, err := New(Options{
		Auth:   authSvc,
		Issuer: testIssuer,
		SignDocuments: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				select {
				case env.served <- struct{}{}:
				default: // nobody is counting (benchmarks)
				}
			}()
			env.handler.ServeHTTP(w, r)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	env.base = hs.URL
	env.url = hs.URL + "/sign-documents"
	env.token = mustToken(t, hs.URL, client.ID, secret)
	env.clientID = client.ID
	return env
}

// mustToken gets an access token from POST /token.
func mustToken(t testing.TB, base, id, secret string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("POST /token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// field is one multipart field; a file field has a file name.
type field struct {
	name, value, file string
}

func multipartBody(t testing.TB, fields []field) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		var w io.Writer
		var err error
		if f.file != "" {
			w, err = mw.CreateFormFile(f.name, f.file)
		} else {
			w, err = mw.CreateFormField(f.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.value)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// signResponse is the 200 body, with pointers to tell null from "".
type signResponse struct {
	SignedDocuments []struct {
		ReferenceNumber string  `json:"referenceNumber"`
		DocumentID      string  `json:"documentId"`
		SignedDocument  *string `json:"signedDocument"`
		Status          string  `json:"status"`
		ErrorReason     *string `json:"errorReason"`
	} `json:"signedDocuments"`
}

type errorBody struct {
	Error string `json:"error"`
}

// authorize adds the token and the account and project headers.
func (env *signEnv) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+env.token)
	req.Header.Set("x-account-id", testAccount)
	req.Header.Set("x-project-id", testProject)
}

func (env *signEnv) post(t testing.TB, body []byte, contentType string) (*http.Response, []byte) {
	t.Helper()
	return env.postWith(t, body, contentType, map[string]string{
		"Authorization": "Bearer " + env.token,
		"x-account-id":  testAccount,
		"x-project-id":  testProject,
	})
}

func (env *signEnv) postWith(t testing.TB, body []byte, contentType string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func mustDecode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func pdfDoc(i int) string {
	return fmt.Sprintf("%%PDF-1.7\n%% document %d\n%s%%%%EOF\n", i, strings.Repeat("x", i*37))
}

// docFields returns the fields of n documents, in the index order given.
func docFields(order []int) []field {
	var fs []field
	for _, i := range order {
		fs = append(fs,
			field{name: fmt.Sprintf("documentPairs[%d].document", i), value: pdfDoc(i), file: fmt.Sprintf("doc%d.pdf", i)},
			field{name: fmt.Sprintf("documentPairs[%d].referenceNumber", i), value: fmt.Sprintf("ref-%d", i)})
	}
	return fs
}

func TestSignDocumentsBatches(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{})
	for _, n := range []int{1, 5, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			// Indexes arrive in reverse order; the response is in index order.
			order := make([]int, n)
			for i := range order {
				order[i] = n - 1 - i
			}
			fields := append(docFields(order), field{name: "clientInfo", value: "tx-1"})
			body, ct := multipartBody(t, fields)
			resp, b := env.post(t, body, ct)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %s", resp.StatusCode, b)
			}
			for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			got := mustDecode[signResponse](t, b)
			if len(got.SignedDocuments) != n {
				t.Fatalf("got %d results, want %d", len(got.SignedDocuments), n)
			}
			ids := make(map[string]bool)
			for i, d := range got.SignedDocuments {
				if d.ReferenceNumber != fmt.Sprintf("ref-%d", i) || d.Status != "SUCCESS" || d.ErrorReason != nil || d.SignedDocument == nil {
					t.Fatalf("result %d = %+v", i, d)
				}
				signed, err := base64.StdEncoding.DecodeString(*d.SignedDocument)
				if err != nil {
					t.Fatalf("result %d: %v", i, err)
				}
				if want := pdfDoc(i) + fakeTail; string(signed) != want {
					t.Errorf("result %d decodes to %q, want %q", i, signed, want)
				}
				u, err := uuid.Parse(d.DocumentID)
				if err != nil || u.Version() != 7 {
					t.Errorf("documentId %q is not a UUIDv7", d.DocumentID)
				}
				ids[d.DocumentID] = true
			}
			if len(ids) != n {
				t.Errorf("documentIds are not unique: %v", ids)
			}
			// The audit rows were recorded before the response was sent.
			found := 0
			for _, e := range env.audit.all() {
				if ids[e.DocumentID] {
					found++
					if e.Account != testAccount || e.Project != testProject || e.ClientID != env.clientID || e.RequestID == "" || e.SignerName != "José Núñez" {
						t.Errorf("audit entry %+v lacks the request's identity", e)
					}
				}
			}
			if found != n {
				t.Errorf("found %d audit entries for the response's documents, want %d", found, n)
			}
		})
	}
}

func TestSignDocumentsPerDocumentFailures(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{})
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	fields := []field{
		{name: "documentPairs[0].referenceNumber", value: "good"},
		{name: "documentPairs[0].document", value: pdfDoc(0), file: "a.pdf"},
		{name: "documentPairs[1].referenceNumber", value: "png"},
		{name: "documentPairs[1].document", value: png, file: "picture.pdf"},
		{name: "documentPairs[2].referenceNumber", value: "encrypted"},
		{name: "documentPairs[2].document", value: "%PDF-1.7\n/Encrypt 5 0 R\n", file: "c.pdf"},
		{name: "documentPairs[3].referenceNumber", value: "good too"},
		{name: "documentPairs[3].document", value: pdfDoc(3), file: "d.pdf"},
		{name: "clientInfo", value: "tx-1"},
	}
	body, ct := multipartBody(t, fields)
	resp, b := env.post(t, body, ct)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, b)
	}
	got := mustDecode[signResponse](t, b)
	type outcome struct{ Ref, Status, Reason string }
	var gotOut []outcome
	for _, d := range got.SignedDocuments {
		o := outcome{Ref: d.ReferenceNumber, Status: d.Status}
		if d.ErrorReason != nil {
			o.Reason = *d.ErrorReason
		}
		if (d.Status == "FAIL") != (d.SignedDocument == nil) {
			t.Errorf("%s: signedDocument must be null exactly when the status is FAIL", d.ReferenceNumber)
		}
		gotOut = append(gotOut, o)
	}
	want := []outcome{
		{"good", "SUCCESS", ""},
		{"png", "FAIL", "The document is not a PDF file."},
		{"encrypted", "FAIL", "The document is encrypted and cannot be signed."},
		{"good too", "SUCCESS", ""},
	}
	if diff := cmp.Diff(want, gotOut); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestSignDocumentsIdentityFailure(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{})
	body, ct := multipartBody(t, append(docFields([]int{0, 1}), field{name: "clientInfo", value: "unknown-tx"}))
	resp, b := env.post(t, body, ct)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, b)
	}
	// Byte for byte the specification's shape for a failed document.
	got := mustDecode[signResponse](t, b)
	for _, d := range got.SignedDocuments {
		if d.Status != "FAIL" || d.ErrorReason == nil || *d.ErrorReason != "Identity validation error." || d.SignedDocument != nil || d.DocumentID == "" {
			t.Errorf("result %+v, want FAIL with the identity errorReason", d)
		}
	}
	if !bytes.Contains(b, []byte(`"signedDocument":null,"status":"FAIL","errorReason":"Identity validation error."`)) {
		t.Errorf("body %s lacks null signedDocument and the errorReason", b)
	}
}

func TestSignDocumentsBadRequests(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{handler: SignHandlerOptions{
		MaxDocumentBytes: 64 << 10,
		MaxRequestBytes:  1 << 20,
		MaxDocuments:     3,
		MaxFieldBytes:    256,
	}})
	doc := func(i int) field {
		return field{name: fmt.Sprintf("documentPairs[%d].document", i), value: pdfDoc(i), file: "a.pdf"}
	}
	ref := func(i int) field {
		return field{name: fmt.Sprintf("documentPairs[%d].referenceNumber", i), value: "r"}
	}
	ci := field{name: "clientInfo", value: "tx-1"}
	rect := func(x1, y1, x2, y2 string) []field {
		var fs []field
		for _, f := range []field{{name: "x1", value: x1}, {name: "y1", value: y1}, {name: "x2", value: x2}, {name: "y2", value: y2}} {
			if f.value != "-" {
				fs = append(fs, f)
			}
		}
		return fs
	}
	join := func(groups ...[]field) []field {
		var fs []field
		for _, g := range groups {
			fs = append(fs, g...)
		}
		return fs
	}
	one := []field{doc(0), ref(0), ci}
	tests := []struct {
		name       string
		fields     []field
		raw        string // a raw body instead of fields
		ct         string // a content type instead of the multipart one
		wantStatus int
		wantError  string
	}{
		{name: "no documents", fields: []field{ci}, wantStatus: 400, wantError: msgMissing},
		{name: "no clientInfo", fields: []field{doc(0), ref(0)}, wantStatus: 400, wantError: msgMissing},
		{name: "empty clientInfo", fields: []field{doc(0), ref(0), {name: "clientInfo", value: " "}}, wantStatus: 400, wantError: msgMissing},
		{name: "empty body", fields: []field{}, wantStatus: 400, wantError: msgMissing},
		{name: "reference only", fields: []field{ref(0), ci}, wantStatus: 400, wantError: msgMissing},
		{name: "missing document half", fields: []field{doc(0), ref(0), ref(1), ci}, wantStatus: 400, wantError: "documentPairs[1] has a referenceNumber but no document."},
		{name: "missing reference half", fields: []field{doc(0), ci}, wantStatus: 400, wantError: "documentPairs[0] has a document but no referenceNumber."},
		{name: "gap in indexes", fields: []field{doc(0), ref(0), doc(2), ref(2), ci}, wantStatus: 400, wantError: "documentPairs[1] is missing: indexes must run from 0 without gaps."},
		{name: "repeated document", fields: []field{doc(0), ref(0), doc(0), ci}, wantStatus: 400, wantError: "Field documentPairs[0].document is repeated."},
		{name: "repeated reference", fields: []field{doc(0), ref(0), ref(0), ci}, wantStatus: 400, wantError: "Field documentPairs[0].referenceNumber is repeated."},
		{name: "repeated clientInfo", fields: []field{doc(0), ref(0), ci, ci}, wantStatus: 400, wantError: "Field clientInfo is repeated."},
		{name: "repeated coordinate", fields: join(one, rect("1", "2", "3", "4"), []field{{name: "x1", value: "5"}}), wantStatus: 400, wantError: "Field x1 is repeated."},
		{name: "unknown field", fields: join(one, []field{{name: "colour", value: "red"}}), wantStatus: 400, wantError: `Unknown field "colour".`},
		{name: "bad index", fields: join(one, []field{{name: "documentPairs[01].document", value: "x"}}), wantStatus: 400, wantError: `Field "documentPairs[01].document": the index must be a number from 0 without leading zeros.`},
		{name: "bad member", fields: join(one, []field{{name: "documentPairs[1].doc", value: "x"}}), wantStatus: 400, wantError: `Field "documentPairs[1].doc": expected documentPairs[1].referenceNumber or documentPairs[1].document.`},
		{name: "partial coordinates", fields: join(one, rect("1", "2", "-", "-")), wantStatus: 400, wantError: "x1, y1, x2 and y2 must be given together; missing x2, y2."},
		{name: "one coordinate", fields: join(one, rect("-", "-", "-", "4")), wantStatus: 400, wantError: "x1, y1, x2 and y2 must be given together; missing x1, y1, x2."},
		{name: "coordinate not a number", fields: join(one, rect("abc", "2", "3", "4")), wantStatus: 400, wantError: `x1 must be a number, got "abc".`},
		{name: "coordinate NaN", fields: join(one, rect("1", "NaN", "3", "4")), wantStatus: 400, wantError: `y1 must be a number, got "NaN".`},
		{name: "coordinate infinite", fields: join(one, rect("1", "2", "+Inf", "4")), wantStatus: 400, wantError: `x2 must be a number, got "+Inf".`},
		{name: "zero width", fields: join(one, rect("300", "300", "300", "150")), wantStatus: 400, wantError: "The signature rectangle (300,300)-(300,150) has zero area."},
		{name: "zero height", fields: join(one, rect("300", "150", "500", "150")), wantStatus: 400, wantError: "The signature rectangle (300,150)-(500,150) has zero area."},
		{name: "page not a number", fields: join(one, []field{{name: "signaturePage", value: "first"}}), wantStatus: 400, wantError: `signaturePage must be a whole number, got "first".`},
		{name: "page fraction", fields: join(one, []field{{name: "signaturePage", value: "1.5"}}), wantStatus: 400, wantError: `signaturePage must be a whole number, got "1.5".`},
		{name: "not multipart", raw: `{"a":1}`, ct: "application/json", wantStatus: 400, wantError: "The request must be multipart/form-data."},
		{name: "no content type", raw: `x`, ct: "", wantStatus: 400, wantError: "The request must be multipart/form-data."},
		{name: "no boundary", raw: `x`, ct: "multipart/form-data", wantStatus: 400, wantError: "The multipart/form-data content type has no boundary."},
		{name: "broken multipart", raw: "--b\r\nContent-Disposition: form-data; name=\"clientInfo\"\r\n\r\ntx", ct: "multipart/form-data; boundary=b", wantStatus: 400, wantError: "The multipart body could not be read: unexpected EOF."},
		{name: "document too large", fields: []field{{name: "documentPairs[0].document", value: "%PDF-" + strings.Repeat("x", 64<<10), file: "big.pdf"}, ref(0), ci}, wantStatus: 413, wantError: "Document documentPairs[0].document is larger than the limit of 65536 bytes."},
		{name: "too many documents", fields: join(docFields([]int{0, 1, 2, 3}), []field{ci}), wantStatus: 413, wantError: "The request has more than the limit of 3 documents."},
		{name: "index beyond the document limit", fields: join(one, []field{{name: "documentPairs[7].referenceNumber", value: "r"}}), wantStatus: 413, wantError: "The request has more than the limit of 3 documents."},
		{name: "text field too large", fields: []field{doc(0), ref(0), {name: "clientInfo", value: strings.Repeat("t", 257)}}, wantStatus: 413, wantError: "Field clientInfo is larger than the limit of 256 bytes."},
		{name: "repeated field after large documents", fields: join([]field{ci}, func() []field {
			var fs []field
			for i := range 3 {
				fs = append(fs, ref(i), field{name: fmt.Sprintf("documentPairs[%d].document", i), value: "%PDF-" + strings.Repeat("y", 60<<10), file: "a.pdf"})
			}
			for range 20 {
				fs = append(fs, field{name: "x1", value: "1"})
			}
			return fs
		}()), wantStatus: 400, wantError: "Field x1 is repeated."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, ct := []byte(tt.raw), tt.ct
			if tt.fields != nil {
				body, ct = multipartBody(t, tt.fields)
			}
			resp, b := env.post(t, body, ct)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, b)
			}
			if got := mustDecode[errorBody](t, b); got.Error != tt.wantError {
				t.Errorf("error = %q, want %q", got.Error, tt.wantError)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

// TestSignDocumentsRequestTooLarge sends a body over the request limit,
// once announced by Content-Length and once chunked.
func TestSignDocumentsRequestTooLarge(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{handler: SignHandlerOptions{MaxRequestBytes: 100 << 10}})
	var fields []field
	for i := range 3 {
		fields = append(fields,
			field{name: fmt.Sprintf("documentPairs[%d].referenceNumber", i), value: "r"},
			field{name: fmt.Sprintf("documentPairs[%d].document", i), value: "%PDF-" + strings.Repeat("z", 40<<10), file: "a.pdf"})
	}
	fields = append(fields, field{name: "clientInfo", value: "tx-1"})
	body, ct := multipartBody(t, fields)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			t.Parallel()
			var r io.Reader = bytes.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, env.url, r)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			env.authorize(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413 (body %s)", resp.StatusCode, b)
			}
			if got, want := mustDecode[errorBody](t, b).Error, "The request is larger than the limit of 102400 bytes."; got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
		})
	}
}

func TestSignDocumentsCoordinatesAndPage(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []pades.Options
	recording := func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
		mu.Lock()
		got = append(got, opts)
		mu.Unlock()
		return fakeSign(ctx, src, size, opts)
	}
	env := mustSignEnv(t, envOptions{service: signing.Options{Sign: recording, MaxSigningPerBatch: 1}})
	tests := []struct {
		name     string
		extra    []field
		wantPage int
		wantRect *pades.Rect
	}{
		{"invisible, page default", nil, 0, nil},
		{"spec corners", []field{{name: "x1", value: "300"}, {name: "y1", value: "300"}, {name: "x2", value: "500"}, {name: "y2", value: "150"}, {name: "signaturePage", value: "0"}}, 0, &pades.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150}},
		{"fractions and last page", []field{{name: "x1", value: " 10.5"}, {name: "y1", value: "20"}, {name: "x2", value: "1e2"}, {name: "y2", value: "-3"}, {name: "signaturePage", value: "-1"}}, -1, &pades.Rect{X1: 10.5, Y1: 20, X2: 100, Y2: -3}},
	}
	for _, tt := range tests {
		mu.Lock()
		got = nil
		mu.Unlock()
		body, ct := multipartBody(t, append(append(docFields([]int{0}), field{name: "clientInfo", value: "tx"}), tt.extra...))
		resp, b := env.post(t, body, ct)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, body %s", tt.name, resp.StatusCode, b)
		}
		mu.Lock()
		if len(got) != 1 || got[0].Page != tt.wantPage || !cmp.Equal(got[0].Rect, tt.wantRect) || got[0].Name != "José Núñez" || got[0].Identification != "CC 1020304050" {
			t.Errorf("%s: signer options = %+v, want page %d rect %+v", tt.name, got, tt.wantPage, tt.wantRect)
		}
		mu.Unlock()
	}
}

// TestSignDocumentsSpecExample runs the specification's curl command as it
// is written, with only the host, token and file path substituted.
func TestSignDocumentsSpecExample(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	env := mustSignEnv(t, envOptions{})
	path := filepath.Join(t.TempDir(), "document.pdf")
	if err := os.WriteFile(path, []byte(pdfDoc(7)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), curl, "-X", "POST",
		env.url,
		"-H", "accept: application/json",
		"-H", "Content-Type: multipart/form-data",
		"-H", "x-account-id: your_account_id",
		"-H", "x-project-id: your_project_id",
		"-H", "Authorization: Bearer "+env.token,
		"-F", "documentPairs[0].referenceNumber=ref123",
		"-F", "documentPairs[0].document=@"+path,
		"-F", "clientInfo=transactionNumber",
		"-F", "x1=300",
		"-F", "y1=300",
		"-F", "x2=500",
		"-F", "y2=150",
		"-F", "signaturePage=0",
	)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	got := mustDecode[signResponse](t, out)
	if len(got.SignedDocuments) != 1 {
		t.Fatalf("response %s", out)
	}
	d := got.SignedDocuments[0]
	if d.ReferenceNumber != "ref123" || d.Status != "SUCCESS" || d.ErrorReason != nil || d.SignedDocument == nil {
		t.Fatalf("result %+v", d)
	}
	signed, err := base64.StdEncoding.DecodeString(*d.SignedDocument)
	if err != nil || string(signed) != pdfDoc(7)+fakeTail {
		t.Errorf("signedDocument decodes to %q, %v", signed, err)
	}
}

func TestSignDocumentsConcurrentRequests(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{handler: SignHandlerOptions{MemoryThreshold: 1 << 10}})
	postConcurrently(t, env, 16, func(c int) []field {
		return append(docFields([]int{0, 1, 2, 3 + c%3}[:3]), field{name: "clientInfo", value: fmt.Sprint("tx-", c)})
	}, func(c int, r signResponse) []error {
		var errs []error
		for i, d := range r.SignedDocuments {
			if d.Status != "SUCCESS" {
				errs = append(errs, fmt.Errorf("client %d document %d: %+v", c, i, d))
			}
		}
		return errs
	})
	mustEmptyDir(t, env.tempDir)
}

// postConcurrently sends clients signing requests at once, the fields of
// request c from fields(c), and reports every status other than 200, every
// undecodable answer and every error check finds in an answer.
func postConcurrently(t *testing.T, env *signEnv, clients int, fields func(c int) []field, check func(c int, r signResponse) []error) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	report := func(err ...error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err...)
	}
	for c := range clients {
		wg.Go(func() {
			body, ct := multipartBody(t, fields(c))
			resp, b := env.post(t, body, ct)
			if resp.StatusCode != http.StatusOK {
				report(fmt.Errorf("client %d: status %d, body %.300s", c, resp.StatusCode, b))
				return
			}
			var r signResponse
			if err := json.Unmarshal(b, &r); err != nil {
				report(fmt.Errorf("client %d: %v", c, err))
				return
			}
			report(check(c, r)...)
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
}

func mustEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("temporary directory not empty: %v", names)
	}
}

// TestSignDocumentsSpillsToTempFiles checks that documents over the memory
// threshold are signed from temporary files that never show in the
// directory, and that the memory budget is whole again afterwards.
func TestSignDocumentsSpillsToTempFiles(t *testing.T) {
	t.Parallel()
	var fromFile atomic.Int64
	var tempDir string
	checking := func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
		if _, ok := src.(*os.File); ok {
			fromFile.Add(1)
		}
		if entries, err := os.ReadDir(tempDir); err != nil || len(entries) != 0 {
			return nil, fmt.Errorf("temporary directory shows %d files (%v)", len(entries), err)
		}
		return fakeSign(ctx, src, size, opts)
	}
	env := mustSignEnv(t, envOptions{
		handler: SignHandlerOptions{MemoryThreshold: 4 << 10, MemoryBudget: 8 << 10},
		service: signing.Options{Sign: checking},
	})
	tempDir = env.tempDir
	big := "%PDF-1.7\n" + strings.Repeat("b", 10<<10)
	fields := []field{
		{name: "documentPairs[0].document", value: big, file: "big.pdf"},
		{name: "documentPairs[0].referenceNumber", value: "big"},
		{name: "documentPairs[1].document", value: pdfDoc(1), file: "small.pdf"},
		{name: "documentPairs[1].referenceNumber", value: "small"},
		{name: "documentPairs[2].document", value: pdfDoc(2), file: "small.pdf"},
		{name: "documentPairs[2].referenceNumber", value: "small"},
		// The budget (8 KiB) has room for one 4 KiB reservation at a time
		// besides the kept small documents: the fourth goes to a file.
		{name: "documentPairs[3].document", value: pdfDoc(3), file: "small.pdf"},
		{name: "documentPairs[3].referenceNumber", value: "small"},
		{name: "clientInfo", value: "tx"},
	}
	body, ct := multipartBody(t, fields)
	resp, b := env.post(t, body, ct)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, b)
	}
	r := mustDecode[signResponse](t, b)
	signed, _ := base64.StdEncoding.DecodeString(*r.SignedDocuments[0].SignedDocument)
	if string(signed) != big+fakeTail {
		t.Errorf("the spilled document came back as %d bytes", len(signed))
	}
	if fromFile.Load() < 1 {
		t.Errorf("%d documents were read from temporary files, want at least 1", fromFile.Load())
	}
	<-env.served
	mustEmptyDir(t, env.tempDir)
	if !env.handler.forms.budget.TryAcquire(8 << 10) {
		t.Error("the memory budget was not given back")
	}
}

// TestSignDocumentsClientDisconnects cuts the connection in the middle of a
// document: the handler must return and leave nothing behind.
func TestSignDocumentsClientDisconnects(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{handler: SignHandlerOptions{MemoryThreshold: 1 << 10, MemoryBudget: 1 << 20}})
	body, ct := multipartBody(t, []field{
		{name: "clientInfo", value: "tx"},
		{name: "documentPairs[0].referenceNumber", value: "r"},
		{name: "documentPairs[0].document", value: "%PDF-1.7\n" + strings.Repeat("d", 256<<10), file: "a.pdf"},
	})
	addr := strings.TrimPrefix(strings.TrimSuffix(env.url, "/sign-documents"), "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /sign-documents HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nx-account-id: %s\r\nx-project-id: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		addr, env.token, testAccount, testProject, ct, len(body))
	if _, err := conn.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	select {
	case <-env.served:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return after the client went away")
	}
	mustEmptyDir(t, env.tempDir)
	if !env.handler.forms.budget.TryAcquire(1 << 20) {
		t.Error("the memory budget was not given back")
	}
	if n := len(env.audit.all()); n != 0 {
		t.Errorf("%d audit entries for a request that never arrived", n)
	}
}

func TestSignDocumentsServiceFaults(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	started := make(chan struct{})
	blocking := func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
		once.Do(func() { close(started) })
		<-release
		return fakeSign(ctx, src, size, opts)
	}
	tests := []struct {
		name       string
		opts       envOptions
		block      bool
		wantStatus int
		wantError  string
	}{
		{"audit down", envOptions{service: signing.Options{Audit: &memAudit{err: fmt.Errorf("disk full")}}}, false, 500, "Error signing the documents."},
		{"signing fault", envOptions{service: signing.Options{Sign: func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
			return nil, pades.ErrNoKey
		}}}, false, 500, "Error signing the documents."},
		{"overloaded", envOptions{
			handler: SignHandlerOptions{RetryAfter: 3 * time.Second},
			service: signing.Options{Sign: blocking, MaxSigning: 1, QueueTimeout: time.Millisecond},
		}, true, 503, msgOverloaded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := mustSignEnv(t, tt.opts)
			body, ct := multipartBody(t, append(docFields([]int{0}), field{name: "clientInfo", value: "tx"}))
			done := make(chan struct{})
			if tt.block {
				go func() {
					defer close(done)
					env.post(t, body, ct)
				}()
				<-started
			}
			resp, b := env.post(t, body, ct)
			if resp.StatusCode != tt.wantStatus || mustDecode[errorBody](t, b).Error != tt.wantError {
				t.Errorf("got %d %s, want %d %q", resp.StatusCode, b, tt.wantStatus, tt.wantError)
			}
			if tt.block {
				if got := resp.Header.Get("Retry-After"); got != "3" {
					t.Errorf("Retry-After = %q, want 3", got)
				}
				close(release)
				<-done
			}
		})
	}
}

// TestSignDocumentsTokenCheck covers the 401 and 403 answers of the token
// check in front of the handler; none of them reads the body.
func TestSignDocumentsTokenCheck(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{})
	body, ct := multipartBody(t, append(docFields([]int{0}), field{name: "clientInfo", value: "tx"}))
	good := map[string]string{"Authorization": "Bearer " + env.token, "x-account-id": testAccount, "x-project-id": testProject}
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for hk, hv := range good {
			h[hk] = hv
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		name       string
		headers    map[string]string
		wantStatus int
		wantError  string
	}{
		{"no token", with("Authorization", ""), 401, "Token not provided or invalid."},
		{"not bearer", with("Authorization", "Basic abc"), 401, "Token not provided or invalid."},
		{"forged token", with("Authorization", "Bearer "+env.token[:len(env.token)-4]+"AAAA"), 401, "Token not provided or invalid."},
		{"other account", with("x-account-id", "someone_else"), 403, "The token was not issued for this x-account-id."},
		{"other project", with("x-project-id", "other_project"), 403, "The token was not issued for this x-project-id."},
		{"no account", with("x-account-id", ""), 403, "Missing x-account-id header."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, b := env.postWith(t, body, ct, tt.headers)
			if resp.StatusCode != tt.wantStatus || mustDecode[errorBody](t, b).Error != tt.wantError {
				t.Errorf("got %d %s, want %d %q", resp.StatusCode, b, tt.wantStatus, tt.wantError)
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
	if n := len(env.audit.all()); n != 0 {
		t.Errorf("%d audit entries for refused requests", n)
	}
}

func TestSignDocumentsTokenExpired(t *testing.T) {
	t.Parallel()
	env := mustSignEnv(t, envOptions{})
	env.skew.Store(int64(24 * time.Hour))
	body, ct := multipartBody(t, append(docFields([]int{0}), field{name: "clientInfo", value: "tx"}))
	resp, b := env.post(t, body, ct)
	if resp.StatusCode != http.StatusForbidden || mustDecode[errorBody](t, b).Error != "Token expired." {
		t.Errorf("got %d %s, want 403 \"Token expired.\"", resp.StatusCode, b)
	}
}

func TestSignDocumentsMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	env := mustSignEnv(t, envOptions{handler: SignHandlerOptions{Metrics: NewMetrics(reg)}})
	fields := append(docFields([]int{0, 1}),
		field{name: "documentPairs[2].referenceNumber", value: "png"},
		field{name: "documentPairs[2].document", value: "\x89PNG\r\n\x1a\n", file: "p.pdf"},
		field{name: "clientInfo", value: "tx"})
	body, ct := multipartBody(t, fields)
	if resp, b := env.post(t, body, ct); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	got := mustGather(t, reg)
	want := map[string]float64{
		"sello_documents_total{reason=,status=SUCCESS}":                             2,
		"sello_documents_total{reason=The document is not a PDF file.,status=FAIL}": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
