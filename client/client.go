// Package client is a Go client for the Sello signing API: it obtains
// access tokens with the OAuth 2.0 client_credentials grant (RFC 6749
// §4.4), keeps them until shortly before they expire, and signs PDF
// documents with POST /sign-documents, streaming them as multipart/form-data
// without holding the request in memory.
//
// A Client is safe for concurrent use; one Client per API client
// credential is enough for a whole program.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Document statuses of a [SignedDocument].
const (
	StatusSuccess = "SUCCESS"
	StatusFail    = "FAIL"
)

// defaultRefreshMargin is how long before its expiry a token is replaced.
const defaultRefreshMargin = 30 * time.Second

// userAgent identifies the client in the service's logs.
const userAgent = "sello-go-client/1"

// maxErrorBody bounds the error bodies read.
const maxErrorBody = 64 << 10

// Client calls one Sello service with one API client's credentials. It is
// safe for concurrent use.
type Client struct {
	base         string // without a trailing slash
	clientID     string
	clientSecret string
	hc           *http.Client
	now          func() time.Time
	margin       time.Duration

	// lock is held while a token is fetched; a channel so that waiting
	// for it honours the caller's context.
	lock chan struct{}
	mu   sync.Mutex // guards token and expiry
	tok  string
	exp  time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc instead of
// http.DefaultClient. Give hc no overall Timeout when signing large
// documents: deadlines come from the contexts passed to each call.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithRefreshMargin sets how long before its expiry a cached token is
// replaced by a new one; the default is 30 s, or half the token's lifetime
// when that is shorter.
func WithRefreshMargin(d time.Duration) Option {
	return func(c *Client) { c.margin = d }
}

// WithClock makes the Client read the time from now, for tests.
func WithClock(now func() time.Time) Option {
	return func(c *Client) { c.now = now }
}

// New returns a Client for the service at baseURL (such as
// "https://sello.example.com"), authenticating as clientID with
// clientSecret. It does no I/O: the first call fetches the first token.
func New(baseURL, clientID, clientSecret string, opts ...Option) *Client {
	c := &Client{
		base:         strings.TrimRight(baseURL, "/"),
		clientID:     clientID,
		clientSecret: clientSecret,
		hc:           http.DefaultClient,
		now:          time.Now,
		margin:       defaultRefreshMargin,
		lock:         make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// APIError is an answer of the service other than success: its HTTP
// status and the text of its {"error": "..."} body.
type APIError struct {
	// Status is the HTTP status code, such as 400 or 401.
	Status int
	// Message is the service's error text, such as "Invalid credentials.";
	// the status text when the body held none.
	Message string
	// RequestID is the response's X-Request-Id, to quote to the operator.
	RequestID string
}

// Error returns "sello: STATUS: MESSAGE".
func (e *APIError) Error() string {
	return fmt.Sprintf("sello: %d: %s", e.Status, e.Message)
}

// newAPIError reads an error response.
func newAPIError(resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// tokenResponse is the 200 body of POST /token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// Token returns an access token, the cached one while it has more than the
// refresh margin to live, else a new one from POST /token. A refused
// request is an *APIError (400 "Invalid credentials." for wrong
// credentials).
func (c *Client) Token(ctx context.Context) (string, error) {
	if tok, ok := c.cached(); ok {
		return tok, nil
	}
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.lock }()
	// Another caller may have fetched one while we waited.
	if tok, ok := c.cached(); ok {
		return tok, nil
	}
	return c.fetchToken(ctx)
}

func (c *Client) cached() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == "" || !c.now().Before(c.exp) {
		return "", false
	}
	return c.tok, true
}

// invalidate forgets tok if it is still the cached token.
func (c *Client) invalidate(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == tok {
		c.tok = ""
	}
}

func (c *Client) fetchToken(ctx context.Context) (string, error) {
	form := url.Values{
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
		"grant_type":    {"client_credentials"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sello: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("sello: token request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", newAPIError(resp)
	}
	var tr tokenResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&tr); err != nil {
		return "", fmt.Errorf("sello: decode token response: %w", err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") || tr.ExpiresIn <= 0 {
		return "", fmt.Errorf("sello: token response without a bearer token and its lifetime")
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	margin := min(c.margin, life/2)
	c.mu.Lock()
	defer c.mu.Unlock()
	// Count the lifetime from before the request, never later than the
	// service did.
	c.tok, c.exp = tr.AccessToken, start.Add(life-margin)
	return c.tok, nil
}

// Rect is two opposite corners of a visible signature, in PDF points
// (1/72 inch) from the lower-left corner of the page as a reader sees it.
type Rect struct {
	X1, Y1, X2, Y2 float64
}

// Document is one PDF to sign.
type Document struct {
	// ReferenceNumber is the caller's reference, returned with the result.
	ReferenceNumber string
	// Name is the file name sent with the document; empty means
	// "document-N.pdf".
	Name string
	// Body is the PDF. It is read once, while the request is sent; when
	// it is also an io.Seeker, the request can be repeated after a 401.
	Body io.Reader
}

// SignRequest is a call of POST /sign-documents.
type SignRequest struct {
	// Account and Project are sent as x-account-id and x-project-id; the
	// token must have been issued for them.
	Account, Project string
	// ClientInfo is an identity-validation transaction number, or a JSON
	// object with the signer's data.
	ClientInfo string
	// Page is the zero-based page of a visible signature; negative counts
	// from the end (-1 is the last page).
	Page int
	// Rect places a visible signature; nil signs invisibly.
	Rect *Rect
	// Documents are the PDFs, sent as documentPairs[0], [1], ...
	Documents []Document
}

// SignResponse is the 200 answer of POST /sign-documents: one entry per
// document, in the order of the request.
type SignResponse struct {
	SignedDocuments []SignedDocument `json:"signedDocuments"`
}

// SignedDocument is the outcome for one document.
type SignedDocument struct {
	// ReferenceNumber is the one given with the document.
	ReferenceNumber string `json:"referenceNumber"`
	// DocumentID is the service's identifier of the document, as in its
	// audit log.
	DocumentID string `json:"documentId"`
	// SignedDocument is the signed PDF (decoded from base64); nil unless
	// Status is StatusSuccess.
	SignedDocument []byte `json:"signedDocument"`
	// Status is StatusSuccess or StatusFail.
	Status string `json:"status"`
	// ErrorReason says why a document failed; empty on success.
	ErrorReason string `json:"errorReason"`
}

// SignDocuments signs the documents of req. A request the service refused
// as a whole is an *APIError; the status of each document is in the
// response. The documents are streamed to the service as they are read.
//
// An expired or revoked cached token answered with 401 is replaced and the
// request sent once more, provided that no document was read yet or every
// document Body is an io.Seeker.
func (c *Client) SignDocuments(ctx context.Context, req SignRequest) (*SignResponse, error) {
	for i, d := range req.Documents {
		if d.Body == nil {
			return nil, fmt.Errorf("sello: document %d (%q) has no Body", i, d.ReferenceNumber)
		}
	}
	starts, seekable := startOffsets(req.Documents)
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, err
		}
		resp, unauthorized, touched, err := c.postDocuments(ctx, tok, req)
		if err != nil {
			return nil, err
		}
		if unauthorized != nil {
			if attempt > 0 || (touched && !seekable) {
				return nil, unauthorized
			}
			c.invalidate(tok)
			if touched {
				if err := rewind(req.Documents, starts); err != nil {
					return nil, err
				}
			}
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, newAPIError(resp)
		}
		var out SignResponse
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, fmt.Errorf("sello: decode sign-documents response: %w", err)
		}
		return &out, nil
	}
}

// startOffsets records where each document Body stands now, and reports
// whether all of them can seek back there.
func startOffsets(docs []Document) ([]int64, bool) {
	starts := make([]int64, len(docs))
	for i, d := range docs {
		s, ok := d.Body.(io.Seeker)
		if !ok {
			return nil, false
		}
		off, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, false
		}
		starts[i] = off
	}
	return starts, true
}

func rewind(docs []Document, starts []int64) error {
	for i, d := range docs {
		if _, err := d.Body.(io.Seeker).Seek(starts[i], io.SeekStart); err != nil {
			return fmt.Errorf("sello: rewind document %d: %w", i, err)
		}
	}
	return nil
}

// postDocuments sends one POST /sign-documents, its body written through
// a pipe by a goroutine. A 401 answer comes back as unauthorized, with the
// writer stopped and touched telling whether it had read any document;
// any other answer as resp, whose body the caller closes.
func (c *Client) postDocuments(ctx context.Context, tok string, req SignRequest) (resp *http.Response, unauthorized *APIError, touched bool, err error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	var read bool // set by the writer; read only once done is closed
	go func() {
		defer close(done)
		pw.CloseWithError(writeForm(mw, req, func() { read = true }))
	}()
	// stop ends the writer when the transport will read no more of the
	// body.
	stop := func() {
		pr.CloseWithError(errors.New("sello: request body abandoned"))
		<-done
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/sign-documents", pr)
	if err != nil {
		stop()
		return nil, nil, false, fmt.Errorf("sello: sign-documents request: %w", err)
	}
	h := hreq.Header
	h.Set("Content-Type", mw.FormDataContentType())
	h.Set("Accept", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set("Authorization", "Bearer "+tok)
	h.Set("x-account-id", req.Account)
	h.Set("x-project-id", req.Project)
	// Let the service refuse a bad token before any document is sent, so
	// that the request can be repeated with a new one.
	h.Set("Expect", "100-continue")
	resp, err = c.hc.Do(hreq)
	if err != nil {
		stop()
		return nil, nil, read, fmt.Errorf("sello: sign-documents request: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// Read the answer before stopping the writer: a body cut short
		// makes the transport drop the connection.
		unauthorized = newAPIError(resp)
		resp.Body.Close()
		stop()
		return nil, unauthorized, read, nil
	}
	// Otherwise the transport reads the body to its end or closes it.
	return resp, nil, false, nil
}

// writeForm writes the multipart body of req. touch is called before the
// first document byte is read.
func writeForm(mw *multipart.Writer, req SignRequest, touch func()) error {
	fields := [][2]string{{"clientInfo", req.ClientInfo}, {"signaturePage", strconv.Itoa(req.Page)}}
	if r := req.Rect; r != nil {
		for _, f := range [][2]any{{"x1", r.X1}, {"y1", r.Y1}, {"x2", r.X2}, {"y2", r.Y2}} {
			fields = append(fields, [2]string{f[0].(string), strconv.FormatFloat(f[1].(float64), 'f', -1, 64)})
		}
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	for i, d := range req.Documents {
		prefix := "documentPairs[" + strconv.Itoa(i) + "]."
		if err := mw.WriteField(prefix+"referenceNumber", d.ReferenceNumber); err != nil {
			return err
		}
		name := d.Name
		if name == "" {
			name = "document-" + strconv.Itoa(i) + ".pdf"
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%sdocument"; filename="%s"`, prefix, escapeQuotes(name)))
		h.Set("Content-Type", "application/pdf")
		part, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		touch()
		if _, err := io.Copy(part, d.Body); err != nil {
			return fmt.Errorf("read document %d: %w", i, err)
		}
	}
	return mw.Close()
}

// escapeQuotes escapes a file name for a Content-Disposition parameter,
// the way mime/multipart does.
func escapeQuotes(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A").Replace(s)
}
