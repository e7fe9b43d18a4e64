package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"time"

	"sello/internal/cms"
	"sello/internal/pades"
)

// Errors callers may branch on.
var (
	// ErrUnavailable reports that no token could be obtained: the TSA
	// cannot be reached, answers with an HTTP error, or rejects the
	// request (see StatusError).
	ErrUnavailable = errors.New("tsa: time-stamping authority unavailable")
	// ErrInvalidToken reports a token that does not answer the request:
	// wrong nonce or message imprint, bad signature, or a signer
	// certificate that is not a trusted time-stamping certificate.
	ErrInvalidToken = errors.New("tsa: invalid time-stamp token")
)

// StatusError reports a TSA's refusal (a PKIStatus other than granted). It
// matches ErrUnavailable with errors.Is.
type StatusError struct {
	Status   int    // PKIStatus, e.g. StatusRejection
	Text     string // the TSA's statusString, if any
	FailInfo int    // PKIFailureInfo bits, if any
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("tsa: request refused with status %d (fail info %#x): %s", e.Status, e.FailInfo, e.Text)
}

// Is reports whether target is ErrUnavailable.
func (e *StatusError) Is(target error) bool { return target == ErrUnavailable }

// Options configure a Client.
type Options struct {
	// URL is the TSA's HTTP(S) endpoint.
	URL string
	// HTTPClient sends the requests; nil means a client with a 30 s
	// timeout. Per-call deadlines come from the context.
	HTTPClient *http.Client
	// Policy is the TSA policy to request; nil lets the TSA choose.
	Policy asn1.ObjectIdentifier
	// Username and Password, when set, are sent with HTTP Basic
	// authentication.
	Username, Password string
	// Roots, when set, are the trust anchors the TSA certificate must chain
	// to at the token's time; nil accepts any TSA certificate with the
	// time-stamping key usage.
	Roots *x509.CertPool
	// Rand is the source of nonces; nil means crypto/rand.Reader.
	Rand io.Reader
}

var _ pades.Timestamper = (*Client)(nil)

// Client obtains time-stamp tokens from one TSA. It is safe for concurrent
// use.
type Client struct {
	opts Options
	hc   *http.Client
}

// New returns a client for the TSA at opts.URL. It fails when the URL is
// not an absolute http or https URL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tsa: URL %q is not an absolute http(s) URL", opts.URL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Client{opts: opts, hc: hc}, nil
}

// Timestamp asks the TSA for a token over digest, computed with hash
// (SHA-256, SHA-384 or SHA-512), and returns the token's DER ContentInfo
// after checking it: status granted, nonce and message imprint echoed,
// requested policy honoured, signature valid, signer certificate included
// and entitled to time-stamp (RFC 3161 §2.3, §2.4.2). Errors wrap
// ErrUnavailable (possibly as *StatusError) or ErrInvalidToken, or come
// from ctx.
func (c *Client) Timestamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	nb := make([]byte, 16)
	if _, err := io.ReadFull(c.opts.Rand, nb); err != nil {
		return nil, fmt.Errorf("tsa: read nonce: %w", err)
	}
	nb[0] &= 0x7f
	req := &Request{Hash: hash, Digest: digest, Policy: c.opts.Policy, Nonce: new(big.Int).SetBytes(nb), CertReq: true}
	body, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	respDER, err := c.post(ctx, body)
	if err != nil {
		return nil, err
	}
	resp, err := ParseResponse(respDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if resp.Status != StatusGranted && resp.Status != StatusGrantedWithMods {
		return nil, &StatusError{Status: resp.Status, Text: resp.StatusString, FailInfo: resp.FailInfo}
	}
	if resp.Token == nil {
		return nil, fmt.Errorf("%w: granted without a token", ErrInvalidToken)
	}
	if err := c.check(req, resp.Token); err != nil {
		return nil, err
	}
	return resp.Token, nil
}

func (c *Client) post(ctx context.Context, body []byte) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hreq.Header.Set("Accept", "application/timestamp-reply")
	if c.opts.Username != "" || c.opts.Password != "" {
		hreq.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(hresp.Body, 4096))
		return nil, fmt.Errorf("%w: HTTP status %s", ErrUnavailable, hresp.Status)
	}
	if mt, _, err := mime.ParseMediaType(hresp.Header.Get("Content-Type")); err != nil || mt != "application/timestamp-reply" {
		return nil, fmt.Errorf("%w: response content type %q", ErrUnavailable, hresp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(io.LimitReader(hresp.Body, maxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read response: %v", ErrUnavailable, err)
	}
	if len(b) > maxMessage {
		return nil, fmt.Errorf("%w: response over %d bytes", ErrInvalidToken, maxMessage)
	}
	return b, nil
}

// check verifies that token answers req.
func (c *Client) check(req *Request, token []byte) error {
	sd, err := cms.Parse(token)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !sd.ContentType.Equal(cms.OIDTSTInfo) || sd.Content == nil {
		return fmt.Errorf("%w: token does not hold a TSTInfo", ErrInvalidToken)
	}
	info, err := cms.ParseTSTInfo(sd.Content)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	switch {
	case info.Nonce == nil || info.Nonce.Cmp(req.Nonce) != 0:
		return fmt.Errorf("%w: nonce not echoed", ErrInvalidToken)
	case info.HashAlgorithm != req.Hash || !bytes.Equal(info.HashedMessage, req.Digest):
		return fmt.Errorf("%w: message imprint differs from the request", ErrInvalidToken)
	case req.Policy != nil && !info.Policy.Equal(req.Policy):
		return fmt.Errorf("%w: policy %v, requested %v", ErrInvalidToken, info.Policy, req.Policy)
	case sd.Signer == nil:
		return fmt.Errorf("%w: TSA certificate missing", ErrInvalidToken)
	}
	if err := sd.VerifyContent(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !hasTimeStamping(sd.Signer) {
		return fmt.Errorf("%w: certificate %q is not for time-stamping", ErrInvalidToken, sd.Signer.Subject)
	}
	if c.opts.Roots != nil {
		inter := x509.NewCertPool()
		for _, cert := range sd.Certificates {
			inter.AddCert(cert)
		}
		_, err := sd.Signer.Verify(x509.VerifyOptions{
			Roots:         c.opts.Roots,
			Intermediates: inter,
			CurrentTime:   info.GenTime,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
	}
	return nil
}

// hasTimeStamping reports whether cert's extended key usage is
// id-kp-timeStamping (RFC 3161 §2.3).
func hasTimeStamping(cert *x509.Certificate) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageTimeStamping {
			return true
		}
	}
	return false
}
