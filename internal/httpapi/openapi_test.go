package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"sello/client"
	"sello/internal/auth"
	"sello/internal/identity"
	"sello/internal/keys"
	"sello/internal/pades"
	"sello/internal/pdf"
	"sello/internal/signing"
	"sello/internal/store/sqlite"
)

// mustOpenAPI loads and validates the embedded OpenAPI document.
func mustOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(openAPIDocument))
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := mustOpenAPI(t)
	if got := doc.OpenAPI; got != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", got)
	}
	want := []string{
		"GET /.well-known/jwks.json",
		"GET /.well-known/openid-configuration",
		"GET /docs",
		"GET /healthz",
		"GET /metrics",
		"GET /openapi.json",
		"GET /readyz",
		"POST /sign-documents",
		"POST /token",
	}
	var got []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			got = append(got, method+" "+path)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}

	// The texts the specification fixes appear as they are on the wire.
	for _, msg := range []string{msgInvalidCredentials, msgInvalidToken, msgTokenExpired, msgMissing, msgSignFault,
		msgAccountMismatch, msgProjectMismatch, msgInternal, msgOverloaded, msgRateLimited} {
		if !strings.Contains(openAPIDocument, `"`+msg+`"`) {
			t.Errorf("openapi.json lacks the error text %q", msg)
		}
	}
	for _, name := range []string{"documentPairs[0].referenceNumber", "documentPairs[0].document", "clientInfo",
		"x1", "y1", "x2", "y2", "signaturePage", "x-account-id", "x-project-id", "signedDocuments", "errorReason"} {
		if !strings.Contains(openAPIDocument, `"`+name+`"`) {
			t.Errorf("openapi.json lacks %q", name)
		}
	}
}

func TestOpenAPIHandler(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	OpenAPIHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !json.Valid(rec.Body.Bytes()) || rec.Body.String() != openAPIDocument {
		t.Error("GET /openapi.json does not return the embedded document")
	}
}

func TestDocsPage(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	DocsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /docs = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	page := rec.Body.String()

	// Self-contained: nothing to load, no script.
	for _, re := range []string{`(?i)<script`, `(?i)<link`, `(?i)<img`, `(?i)<iframe`, `(?i)src=`, `(?i)@import`, `(?i)url\(`, `(?i)href="(https?:)?//`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("the page loads something (%q)", m)
		}
	}
	// Every internal link has its target.
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		ids[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !ids[m[1]] {
			t.Errorf("link to #%s has no target", m[1])
		}
	}
	// Every operation, schema and fixed error text is on the page.
	doc := mustOpenAPI(t)
	var want []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want = append(want, fmt.Sprintf(`<span class="method %s">%s</span><span class="path">%s</span>`, method, method, path), op.Summary)
		}
	}
	for name := range doc.Components.Schemas {
		want = append(want, `id="schema-`+name+`"`)
	}
	want = append(want, "documentPairs[0].referenceNumber", "x-account-id", "Token not provided or invalid.",
		"Missing documents or client information.", "Error signing the documents.", "-F &#39;documentPairs[0].document=@/path/to/your/document.pdf&#39;")
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func TestRenderDocsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
	}{
		{"not JSON", "{"},
		{"undeclared tag", `{"paths": {"/x": {"get": {"tags": ["Nope"], "responses": {}}}}}`},
		{"unresolved response", `{"tags": [{"name": "A"}], "paths": {"/x": {"get": {"tags": ["A"], "responses": {"200": {"$ref": "#/components/responses/Gone"}}}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := renderDocs([]byte(tt.doc)); err == nil {
				t.Errorf("renderDocs(%s) = nil error, want one", tt.doc)
			}
		})
	}
}

// The doubles of the signing service's dependencies for the wire tests.

type wireIdentity struct{}

func (wireIdentity) Check(ctx context.Context, account, clientInfo string) (*identity.Signer, error) {
	return &identity.Signer{Name: "José Núñez", IDType: "CC", IDNumber: "1020304050", Source: identity.SourceTransaction, Transaction: clientInfo}, nil
}

func (wireIdentity) Consume(context.Context, string, *identity.Signer) error { return nil }

type wireKeys struct{}

func (wireKeys) Key(context.Context, *identity.Signer) (*keys.Key, error) { return &keys.Key{}, nil }

type wireAudit struct{}

func (wireAudit) Record(context.Context, []signing.AuditEntry) error { return nil }

// wireSigned is a "signed" document: the original and a comment line.
type wireSigned struct{ b []byte }

func (w wireSigned) Size() int64 { return int64(len(w.b)) }

func (w wireSigned) WriteTo(dst io.Writer) (int64, error) {
	n, err := dst.Write(w.b)
	return int64(n), err
}

// wireSign accepts what starts with %PDF- and refuses the rest as not a
// PDF, the way the real signer does; "%PDF-fault" is a fault of the
// service.
func wireSign(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
	b, err := io.ReadAll(io.NewSectionReader(src, 0, size))
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return nil, fmt.Errorf("wire test: %w", pdf.ErrNotPDF)
	}
	if bytes.HasPrefix(b, []byte("%PDF-fault")) {
		return nil, errors.New("wire test: the signing key is unavailable")
	}
	return wireSigned{append(b, "\n%wire-signed\n"...)}, nil
}

// wireEnv is the server wired with the real token service, SQLite store,
// sign handler and signing service (with a fake signature), on a loopback
// port.
type wireEnv struct {
	url              string
	clientID, secret string
	account, project string
	server           *Server
	ready            atomic.Bool // what the readiness check reports
}

func mustWireEnv(t testing.TB) *wireEnv {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sello.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	master := bytes.Repeat([]byte{9}, auth.MasterKeySize)
	cheap := auth.HashParams{Memory: 64, Time: 1, Threads: 1}
	admin, err := auth.NewAdmin(auth.AdminOptions{Clients: db, Keys: db, MasterKey: master, Hash: cheap})
	if err != nil {
		t.Fatal(err)
	}
	env := &wireEnv{account: "your_account_id", project: "your_project_id"}
	c, secret, err := admin.CreateClient(t.Context(), auth.NewClient{Account: env.account, Projects: []string{env.project}})
	if err != nil {
		t.Fatal(err)
	}
	env.clientID, env.secret = c.ID, secret

	hs := httptest.NewUnstartedServer(nil)
	env.url = "http://" + hs.Listener.Addr().String()
	tokens, err := auth.New(auth.Options{Clients: db, Keys: db, MasterKey: master, Issuer: env.url, Hash: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if err := tokens.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	svc, err := signing.New(signing.Options{Identity: wireIdentity{}, Keys: wireKeys{}, Audit: wireAudit{}, Sign: wireSign})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	env.ready.Store(true)
	api, err := New(Options{
		Auth:           tokens,
		Issuer:         env.url,
		SignDocuments:  NewSignHandler(SignHandlerOptions{Signer: svc, TempDir: t.TempDir(), MaxDocuments: 3}),
		Metrics:        NewMetrics(reg),
		MetricsHandler: MetricsHandler(reg),
		Ready: []ReadyCheck{{Name: "store", Check: func(context.Context) error {
			if !env.ready.Load() {
				return errors.New("wire test: the store is down")
			}
			return nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.server = api
	hs.Config.Handler = api
	hs.Start()
	t.Cleanup(hs.Close)
	return env
}

// validatingTransport checks every request it sends and every response it
// receives against the OpenAPI document, and records the problems.
type validatingTransport struct {
	router routers.Router
	next   http.RoundTripper

	// checkRequests checks the requests too, for those that should be
	// valid. RoundTrip runs on the caller's goroutine: set it between
	// requests.
	checkRequests bool

	mu       sync.Mutex
	problems []string
	seen     []string // "METHOD PATH STATUS"
}

func newValidatingTransport(t testing.TB, modify func(*openapi3.T)) *validatingTransport {
	t.Helper()
	doc := mustOpenAPI(t)
	doc.Servers = nil // match any host
	if modify != nil {
		modify(doc)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validatingTransport{router: router, next: http.DefaultTransport}
}

func (v *validatingTransport) problem(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	route, params, err := v.router.FindRoute(req)
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		return v.wrongMethod(req)
	}
	if err != nil {
		v.problem("%s %s: no route in openapi.json: %v", req.Method, req.URL.Path, err)
		return v.next.RoundTrip(req)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if v.checkRequests && req.Body != nil {
		// The request is read whole to be checked, then sent.
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		vreq := req.Clone(req.Context())
		vreq.Body = io.NopCloser(bytes.NewReader(b))
		vin := *in
		vin.Request = vreq
		if err := openapi3filter.ValidateRequest(req.Context(), &vin); err != nil {
			v.problem("request %s %s does not match openapi.json: %v", req.Method, req.URL.Path, err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
		in.Request = req
	}
	resp, body, err := v.roundTripBuffered(req)
	if err != nil {
		return nil, err
	}
	if mt := resp.Header.Get("Content-Type"); strings.HasPrefix(mt, "text/html") {
		// kin-openapi has no decoder for HTML; the status and headers are
		// still checked.
		opts.ExcludeResponseBody = true
	}
	err = openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
	if err != nil {
		v.problem("%s %s answered %d %.300q: %v", req.Method, req.URL.Path, resp.StatusCode, body, err)
	}
	v.mu.Lock()
	v.seen = append(v.seen, fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, resp.StatusCode))
	v.mu.Unlock()
	return resp, nil
}

// roundTripBuffered sends req and reads the whole answer, leaving the
// response's body readable again for the caller.
func (v *validatingTransport) roundTripBuffered(req *http.Request) (*http.Response, []byte, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, body, nil
}

// wrongMethod checks the answer to a method a route does not accept,
// which the OpenAPI document describes in prose only: 405, an Allow header,
// an X-Request-Id and an error body.
func (v *validatingTransport) wrongMethod(req *http.Request) (*http.Response, error) {
	resp, body, err := v.roundTripBuffered(req)
	if err != nil {
		return nil, err
	}
	var e map[string]any
	var msg string
	if json.Unmarshal(body, &e) == nil && len(e) == 1 {
		msg, _ = e["error"].(string)
	}
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" || resp.Header.Get("X-Request-Id") == "" || msg == "" {
		v.problem("%s %s answered %d, Allow %q, body %q; want 405 with Allow, X-Request-Id and an error body",
			req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	v.mu.Lock()
	v.seen = append(v.seen, fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, resp.StatusCode))
	v.mu.Unlock()
	return resp, nil
}

// TestOpenAPIResponses sends requests to the real server and checks each
// answer against openapi.json: status documented, headers and body as
// described.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	env := mustWireEnv(t)
	vt := newValidatingTransport(t, nil)
	hc := &http.Client{Transport: vt}

	send := func(method, path string, header http.Header, body io.Reader) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, env.url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	formHeader := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	// POST /token: 200, 400 (wrong secret, missing field, grant type), 405.
	vt.checkRequests = true
	send(http.MethodPost, "/token", formHeader, form(url.Values{"client_id": {env.clientID}, "client_secret": {env.secret}, "grant_type": {"client_credentials"}}))
	vt.checkRequests = false
	send(http.MethodPost, "/token", formHeader, form(url.Values{"client_id": {env.clientID}, "client_secret": {"wrong"}, "grant_type": {"client_credentials"}}))
	send(http.MethodPost, "/token", formHeader, form(url.Values{"client_id": {env.clientID}, "grant_type": {"client_credentials"}}))
	send(http.MethodPost, "/token", formHeader, form(url.Values{"client_id": {env.clientID}, "client_secret": {env.secret}, "grant_type": {"password"}}))
	send(http.MethodGet, "/token", nil, nil)

	// The Go client's requests match the document too. (kin-openapi
	// decodes only the multipart parts named in "properties", not those
	// matched by "patternProperties": one document at a time.)
	vt.checkRequests = true
	c := client.New(env.url, env.clientID, env.secret, client.WithHTTPClient(hc))
	if _, err := c.SignDocuments(t.Context(), client.SignRequest{
		Account: env.account, Project: env.project, ClientInfo: "transactionNumber", Page: -1,
		Rect:      &client.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150},
		Documents: []client.Document{{ReferenceNumber: "ref123", Name: "document.pdf", Body: strings.NewReader("%PDF-1.7\n")}},
	}); err != nil {
		t.Fatalf("SignDocuments: %v", err)
	}
	vt.checkRequests = false

	// POST /sign-documents through the Go client: 200 with a SUCCESS and a
	// FAIL entry.
	resp, err := c.SignDocuments(t.Context(), client.SignRequest{
		Account: env.account, Project: env.project, ClientInfo: "transactionNumber",
		Rect: &client.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150},
		Documents: []client.Document{
			{ReferenceNumber: "ref123", Body: strings.NewReader("%PDF-1.7\n%%EOF\n")},
			{ReferenceNumber: "ref456", Body: strings.NewReader("\x89PNG\r\n")},
		},
	})
	if err != nil {
		t.Fatalf("SignDocuments: %v", err)
	}
	want := &client.SignResponse{SignedDocuments: []client.SignedDocument{
		{ReferenceNumber: "ref123", SignedDocument: []byte("%PDF-1.7\n%%EOF\n\n%wire-signed\n"), Status: client.StatusSuccess},
		{ReferenceNumber: "ref456", Status: client.StatusFail, ErrorReason: "The document is not a PDF file."},
	}}
	if diff := cmp.Diff(want, resp, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".DocumentID" }, cmp.Ignore())); diff != "" {
		t.Errorf("SignDocuments (-want +got):\n%s", diff)
	}

	// 400: no clientInfo; 401: no token; 403: another account; 413: over
	// the limit of 3 documents; 405.
	sign := func(req client.SignRequest) error {
		cc := client.New(env.url, env.clientID, env.secret, client.WithHTTPClient(hc))
		if req.Account == "" {
			req.Account = env.account
		}
		req.Project = env.project
		_, err := cc.SignDocuments(t.Context(), req)
		return err
	}
	doc := func() client.Document {
		return client.Document{ReferenceNumber: "r", Body: strings.NewReader("%PDF-1.7\n")}
	}
	for _, tc := range []struct {
		name string
		req  client.SignRequest
		want int
	}{
		{"no clientInfo", client.SignRequest{Documents: []client.Document{doc()}}, http.StatusBadRequest},
		{"no documents", client.SignRequest{ClientInfo: "tx"}, http.StatusBadRequest},
		{"another account", client.SignRequest{Account: "other", ClientInfo: "tx", Documents: []client.Document{doc()}}, http.StatusForbidden},
		{"too many documents", client.SignRequest{ClientInfo: "tx", Documents: []client.Document{doc(), doc(), doc(), doc()}}, http.StatusRequestEntityTooLarge},
		{"service fault", client.SignRequest{ClientInfo: "tx", Documents: []client.Document{{ReferenceNumber: "r", Body: strings.NewReader("%PDF-fault")}}},
			http.StatusInternalServerError},
	} {
		err := sign(tc.req)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != tc.want {
			t.Errorf("%s: SignDocuments error = %v, want an *APIError with status %d", tc.name, err, tc.want)
		}
	}
	send(http.MethodPost, "/sign-documents", http.Header{"X-Account-Id": {env.account}, "X-Project-Id": {env.project}}, nil)
	send(http.MethodPost, "/sign-documents", http.Header{"Authorization": {"Bearer not-a-jwt"}, "X-Account-Id": {env.account}, "X-Project-Id": {env.project}}, nil)
	send(http.MethodGet, "/sign-documents", nil, nil)

	// Discovery, health, readiness, metrics and this description.
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json", "/healthz", "/readyz", "/openapi.json", "/docs", "/metrics"} {
		send(http.MethodGet, path, nil, nil)
	}
	send(http.MethodPost, "/healthz", nil, nil)
	env.ready.Store(false)
	send(http.MethodGet, "/readyz", nil, nil)

	// Shutting down: every route answers 503.
	env.server.Drain()
	send(http.MethodPost, "/token", formHeader, form(url.Values{"client_id": {env.clientID}, "client_secret": {env.secret}, "grant_type": {"client_credentials"}}))
	send(http.MethodGet, "/healthz", nil, nil)
	send(http.MethodGet, "/openapi.json", nil, nil)

	vt.mu.Lock()
	defer vt.mu.Unlock()
	for _, p := range vt.problems {
		t.Error(p)
	}
	for _, want := range []string{
		"POST /token 200", "POST /token 400", "GET /token 405",
		"POST /sign-documents 200", "POST /sign-documents 400", "POST /sign-documents 401",
		"POST /sign-documents 403", "POST /sign-documents 413", "POST /sign-documents 500", "GET /sign-documents 405",
		"GET /.well-known/openid-configuration 200", "GET /.well-known/jwks.json 200", "GET /healthz 200",
		"GET /openapi.json 200", "GET /docs 200", "GET /metrics 200", "POST /healthz 405",
		"GET /readyz 200", "GET /readyz 503", "POST /token 503", "GET /healthz 503", "GET /openapi.json 503",
	} {
		if !slices.Contains(vt.seen, want) {
			t.Errorf("no %q was checked; seen: %q", want, vt.seen)
		}
	}
}

// TestOpenAPIValidatorSeesMismatches shows that the checks above can fail:
// against a document whose token response and X-Request-Id are described
// wrongly, the real answers are reported.
func TestOpenAPIValidatorSeesMismatches(t *testing.T) {
	t.Parallel()
	env := mustWireEnv(t)
	tests := []struct {
		name   string
		modify func(*openapi3.T)
	}{
		{"body", func(doc *openapi3.T) {
			max := 10.0
			doc.Components.Schemas["TokenResponse"].Value.Properties["expires_in"].Value.Max = &max
		}},
		{"header", func(doc *openapi3.T) {
			doc.Components.Headers["X-Request-Id"].Value.Schema.Value.Pattern = "^never$"
		}},
		{"status", func(doc *openapi3.T) {
			doc.Paths.Value("/token").Post.Responses.Delete("200")
		}},
		{"request", func(doc *openapi3.T) {
			s := doc.Components.Schemas["TokenRequest"].Value
			s.Required = append(s.Required, "scope")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vt := newValidatingTransport(t, tt.modify)
			vt.checkRequests = true
			c := client.New(env.url, env.clientID, env.secret, client.WithHTTPClient(&http.Client{Transport: vt}))
			if _, err := c.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			vt.mu.Lock()
			defer vt.mu.Unlock()
			if len(vt.problems) == 0 {
				t.Error("a response that does not match the document was not reported")
			}
		})
	}
}
