package client_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/client"
	"sello/internal/clocktest"
)

// onlyReader hides every method of r but Read, so that it cannot seek.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestSignDocuments(t *testing.T) {
	t.Parallel()
	f := newFakeService(t)
	c := client.New(f.srv.URL+"/", f.id, f.secret)
	resp, err := c.SignDocuments(t.Context(), client.SignRequest{
		Account:    "ACME",
		Project:    "payroll",
		ClientInfo: "7f3a9c",
		Page:       -1,
		Rect:       &client.Rect{X1: 300, Y1: 300, X2: 500.5, Y2: 150},
		Documents: []client.Document{
			{ReferenceNumber: "ref123", Name: `contract "A".pdf`, Body: strings.NewReader("%PDF-1.7 one")},
			{ReferenceNumber: "ref456", Body: onlyReader{strings.NewReader("GIF89a")}},
		},
	})
	if err != nil {
		t.Fatalf("SignDocuments: %v", err)
	}
	want := &client.SignResponse{SignedDocuments: []client.SignedDocument{
		{ReferenceNumber: "ref123", DocumentID: "doc-001", SignedDocument: []byte("%PDF-1.7 one%signed"), Status: client.StatusSuccess},
		{ReferenceNumber: "ref456", DocumentID: "doc-002", Status: client.StatusFail, ErrorReason: "The document is not a PDF file."},
	}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}

	reqs := f.received()
	if len(reqs) != 1 {
		t.Fatalf("the service received %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	wantFields := map[string]string{
		"clientInfo":                       "7f3a9c",
		"signaturePage":                    "-1",
		"x1":                               "300",
		"y1":                               "300",
		"x2":                               "500.5",
		"y2":                               "150",
		"documentPairs[0].referenceNumber": "ref123",
		"documentPairs[0].document":        "%PDF-1.7 one",
		"documentPairs[1].referenceNumber": "ref456",
		"documentPairs[1].document":        "GIF89a",
	}
	if diff := cmp.Diff(wantFields, got.fields); diff != "" {
		t.Errorf("multipart fields (-want +got):\n%s", diff)
	}
	wantFiles := map[string]string{
		"documentPairs[0].document": `contract "A".pdf application/pdf`,
		"documentPairs[1].document": "document-1.pdf application/pdf",
	}
	if diff := cmp.Diff(wantFiles, got.files); diff != "" {
		t.Errorf("document parts (-want +got):\n%s", diff)
	}
	for h, want := range map[string]string{"X-Account-Id": "ACME", "X-Project-Id": "payroll", "Authorization": "Bearer token-1", "Accept": "application/json",
		"User-Agent": "sello-go-client/1", "Expect": "100-continue"} {
		if v := got.header.Get(h); v != want {
			t.Errorf("header %s = %q, want %q", h, v, want)
		}
	}
}

func TestSignDocumentsInvisible(t *testing.T) {
	t.Parallel()
	f := newFakeService(t)
	c := client.New(f.srv.URL, f.id, f.secret)
	_, err := c.SignDocuments(t.Context(), client.SignRequest{
		ClientInfo: `{"name": "José Núñez", "identification": "CC 1020304050"}`,
		Documents:  []client.Document{{ReferenceNumber: "r", Body: strings.NewReader("%PDF-")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fields := f.received()[0].fields
	for _, name := range []string{"x1", "y1", "x2", "y2"} {
		if v, ok := fields[name]; ok {
			t.Errorf("field %s = %q sent without a Rect", name, v)
		}
	}
	if got := fields["signaturePage"]; got != "0" {
		t.Errorf("signaturePage = %q, want 0", got)
	}
}

func TestSignDocumentsLarge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("sends 32 MB")
	}
	f := newFakeService(t)
	c := client.New(f.srv.URL, f.id, f.secret)
	body := io.MultiReader(strings.NewReader("%PDF-"), io.LimitReader(zeros{}, 32<<20))
	resp, err := c.SignDocuments(t.Context(), client.SignRequest{
		ClientInfo: "tx",
		Documents:  []client.Document{{ReferenceNumber: "big", Body: body}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(resp.SignedDocuments[0].SignedDocument), 5+32<<20+len("%signed"); got != want {
		t.Errorf("signed document has %d bytes, want %d", got, want)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestTokenCache(t *testing.T) {
	t.Parallel()
	f := newFakeService(t)
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := client.New(f.srv.URL, f.id, f.secret, client.WithClock(clk.Now), client.WithRefreshMargin(time.Minute))
	steps := []struct {
		name    string
		advance time.Duration
		want    string
	}{
		{"first call fetches", 0, "token-1"},
		{"cached", 30 * time.Minute, "token-1"},
		{"still cached before the margin", 28*time.Minute + 59*time.Second, "token-1"},
		{"refreshed within the margin", time.Second, "token-2"},
		{"new token cached", 58 * time.Minute, "token-2"},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		got, err := c.Token(t.Context())
		if err != nil {
			t.Fatalf("%s: Token: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: Token = %q, want %q", s.name, got, s.want)
		}
	}
}

func TestTokenShortLifetime(t *testing.T) {
	t.Parallel()
	f := newFakeService(t)
	f.lifetime = 10 // shorter than twice the default margin
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := client.New(f.srv.URL, f.id, f.secret, client.WithClock(clk.Now))
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "token-1"}, {4 * time.Second, "token-1"}, {time.Second, "token-2"}} {
		clk.Advance(step.advance)
		if got, err := c.Token(t.Context()); err != nil || got != step.want {
			t.Errorf("after %v: Token = %q, %v; want %q", step.advance, got, err, step.want)
		}
	}
}

func TestTokenConcurrent(t *testing.T) {
	t.Parallel()
	f := newFakeService(t)
	c := client.New(f.srv.URL, f.id, f.secret)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Token(t.Context()); err != nil {
				t.Errorf("Token: %v", err)
			}
		})
	}
	wg.Wait()
	if n := f.tokensIssued(); n != 1 {
		t.Errorf("20 concurrent calls fetched %d tokens, want 1", n)
	}
}

func TestRetryOnce401(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body func() io.Reader
	}{
		{"seekable body", func() io.Reader { return strings.NewReader("%PDF-1.4 x") }},
		{"stream body", func() io.Reader { return onlyReader{strings.NewReader("%PDF-1.4 x")} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeService(t)
			c := client.New(f.srv.URL, f.id, f.secret)
			if _, err := c.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			f.revokeAll() // the cached token is now refused
			resp, err := c.SignDocuments(t.Context(), client.SignRequest{
				ClientInfo: "tx",
				Documents:  []client.Document{{ReferenceNumber: "r", Body: tt.body()}},
			})
			if err != nil {
				t.Fatalf("SignDocuments after a revoked token: %v", err)
			}
			if got := string(resp.SignedDocuments[0].SignedDocument); got != "%PDF-1.4 x%signed" {
				t.Errorf("signed document = %q", got)
			}
			if n := f.tokensIssued(); n != 2 {
				t.Errorf("tokens fetched = %d, want 2", n)
			}
		})
	}
}

// rejectingTransport answers every sign-documents request 401, after
// reading the whole body, and passes the rest on.
type rejectingTransport struct{ next http.RoundTripper }

func (rt rejectingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/sign-documents") {
		return rt.next.RoundTrip(r)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{
		StatusCode: http.StatusUnauthorized,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"error": "Token not provided or invalid."}`)),
		Request:    r,
	}, nil
}

func TestNoRetryAfterSecond401(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       func() io.Reader
		wantTokens int
	}{
		// The body was read by the first attempt and cannot be sent again.
		{"stream body", func() io.Reader { return onlyReader{strings.NewReader("%PDF-")} }, 1},
		{"seekable body", func() io.Reader { return bytes.NewReader([]byte("%PDF-")) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeService(t)
			hc := &http.Client{Transport: rejectingTransport{next: http.DefaultTransport}}
			c := client.New(f.srv.URL, f.id, f.secret, client.WithHTTPClient(hc))
			_, err := c.SignDocuments(t.Context(), client.SignRequest{
				ClientInfo: "tx",
				Documents:  []client.Document{{ReferenceNumber: "r", Body: tt.body()}},
			})
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
				t.Fatalf("SignDocuments error = %v, want a 401 *APIError", err)
			}
			if n := f.tokensIssued(); n != tt.wantTokens {
				t.Errorf("tokens fetched = %d, want %d", n, tt.wantTokens)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	f := newFakeService(t)
	tests := []struct {
		name   string
		secret string
		req    client.SignRequest
		want   client.APIError
	}{
		{"wrong secret", "wrong", client.SignRequest{}, client.APIError{Status: 400, Message: "Invalid credentials.", RequestID: "req-1"}},
		{"no documents", f.secret, client.SignRequest{ClientInfo: "tx"},
			client.APIError{Status: 400, Message: "Missing documents or client information.", RequestID: "req-1"}},
		{"no clientInfo", f.secret, client.SignRequest{Documents: []client.Document{{ReferenceNumber: "r", Body: strings.NewReader("%PDF-")}}},
			client.APIError{Status: 400, Message: "Missing documents or client information.", RequestID: "req-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := client.New(f.srv.URL, f.id, tt.secret)
			_, err := c.SignDocuments(t.Context(), tt.req)
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("SignDocuments error = %v, want an *APIError", err)
			}
			if diff := cmp.Diff(tt.want, *apiErr); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIErrorWithoutJSON(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader("<html>bad gateway</html>")), Request: r}, nil
	})}
	c := client.New("http://127.0.0.1:1", "id", "secret", client.WithHTTPClient(hc))
	_, err := c.Token(t.Context())
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway || apiErr.Message != "Bad Gateway" {
		t.Fatalf("Token error = %#v, want a 502 *APIError with the status text", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDocumentWithoutBody(t *testing.T) {
	t.Parallel()
	c := client.New("http://127.0.0.1:1", "id", "secret")
	_, err := c.SignDocuments(t.Context(), client.SignRequest{Documents: []client.Document{{ReferenceNumber: "r"}}})
	var apiErr *client.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("SignDocuments with a nil Body = %v, want a local error", err)
	}
}
