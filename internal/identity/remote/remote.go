// Package remote is an identity provider that asks an external
// identity-validation service over HTTP for each transaction.
//
// # Contract
//
// The client sends
//
//	GET {BaseURL}/transactions/{number}?account={account}
//	Authorization: Bearer {Credential}
//	Accept: application/json
//
// where number is path-escaped and account is the API account asking (the
// service may use it to scope its lookup). The service answers 404 when it
// knows no such transaction, another status for any other condition, or 200
// with a JSON object of at most 64 KiB:
//
//	{
//	  "number":     "7f3a9c",                // required, the number asked for
//	  "account":    "ACME",                  // required, the account that may use it
//	  "status":     "approved",              // required: approved, rejected or pending
//	  "name":       "José Núñez",            // required to sign
//	  "idType":     "CC",                    // identification type, may be empty
//	  "idNumber":   "1020304050",            // required to sign
//	  "email":      "jose@example.com",      // optional
//	  "createdAt":  "2026-05-04T12:00:00Z",  // optional
//	  "expiresAt":  "2026-05-05T12:00:00Z",  // optional; absent or null: no expiry
//	  "revokedAt":  null,                    // optional; set when revoked
//	  "consumedAt": null                     // optional; set when used
//	}
//
// Times are RFC 3339 strings. Other members are ignored. A body that is not
// such an object, names another number or has an unknown status is
// malformed.
//
// For single-use transactions the client also sends
//
//	POST {BaseURL}/transactions/{number}/consume?account={account}
//
// and the service answers 200 or 204 when this call consumed the
// transaction, 409 when it was already consumed, 404 when unknown. The
// service must decide concurrent calls atomically: exactly one wins.
//
// # Failures
//
// Each attempt has its own timeout ([Options.Timeout]) inside the caller's
// context. Network errors, timeouts and 5xx answers are retried up to
// [Options.MaxRetries] times with exponential backoff and full jitter; 4xx
// answers and malformed bodies are not. A circuit breaker fails calls at
// once with [ErrCircuitOpen] after [Options.BreakerThreshold] consecutive
// failed calls, and lets one trial call through after
// [Options.BreakerCooldown]; its success closes the breaker again.
package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sello/internal/identity"
)

// Defaults for the zero values of [Options].
const (
	DefaultTimeout          = 5 * time.Second
	DefaultMaxRetries       = 2
	DefaultBackoffBase      = 100 * time.Millisecond
	DefaultBackoffMax       = 2 * time.Second
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 30 * time.Second
)

// maxBodyBytes caps the size of a response body that is read.
const maxBodyBytes = 64 << 10

// Errors returned by [Client.Transaction], wrapped.
var (
	// ErrCircuitOpen reports that the call was not made because recent
	// calls failed.
	ErrCircuitOpen = errors.New("remote: circuit breaker open")
	// ErrMalformed reports a 200 answer whose body breaks the contract.
	ErrMalformed = errors.New("remote: malformed response")
)

// StatusError reports an HTTP status other than 200 and 404.
type StatusError struct {
	Code int
}

// Error names the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("remote: unexpected status %d %s", e.Code, http.StatusText(e.Code))
}

// Options configures a [Client]. BaseURL is required; zero values of the
// other fields select the defaults above.
type Options struct {
	// BaseURL is the service's root, e.g. https://idv.example/api/v1.
	BaseURL string
	// Credential is sent as a bearer token. It is never logged.
	Credential string
	// HTTPClient makes the requests; a new http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each attempt.
	Timeout time.Duration
	// MaxRetries is the number of attempts after the first; negative means
	// none.
	MaxRetries int
	// BackoffBase and BackoffMax shape the wait before retry n (from 1):
	// a random duration in [0, min(BackoffMax, BackoffBase·2^(n-1))].
	BackoffBase, BackoffMax time.Duration
	// BreakerThreshold is the number of consecutive failed calls that opens
	// the circuit breaker.
	BreakerThreshold int
	// BreakerCooldown is how long the breaker stays open before a trial.
	BreakerCooldown time.Duration
	// Now returns the current time, for the breaker; time.Now when nil.
	Now func() time.Time
}

// LogValue shows the options with the credential redacted.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", o.BaseURL),
		slog.String("credential", "[redacted]"),
		slog.Duration("timeout", o.Timeout),
		slog.Int("max_retries", o.MaxRetries),
	)
}

// Client is an [identity.Provider] and [identity.Consumer] backed by an
// external service. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	credential string
	hc         *http.Client
	timeout    time.Duration
	retries    int
	backoff    [2]time.Duration
	now        func() time.Time
	breaker    breaker
}

var (
	_ identity.Provider = (*Client)(nil)
	_ identity.Consumer = (*Client)(nil)
)

// New returns a Client for opts. It fails when BaseURL is not an absolute
// http or https URL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote: base URL %q is not an absolute http(s) URL", opts.BaseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:       u,
		credential: opts.Credential,
		hc:         opts.HTTPClient,
		timeout:    cmpOr(opts.Timeout, DefaultTimeout),
		retries:    opts.MaxRetries,
		backoff:    [2]time.Duration{cmpOr(opts.BackoffBase, DefaultBackoffBase), cmpOr(opts.BackoffMax, DefaultBackoffMax)},
		now:        opts.Now,
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case opts.MaxRetries == 0:
		c.retries = DefaultMaxRetries
	case opts.MaxRetries < 0:
		c.retries = 0
	}
	c.breaker.threshold = opts.BreakerThreshold
	if c.breaker.threshold <= 0 {
		c.breaker.threshold = DefaultBreakerThreshold
	}
	c.breaker.cooldown = cmpOr(opts.BreakerCooldown, DefaultBreakerCooldown)
	return c, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// transactionJSON is the body of a 200 answer. Members not listed are
// ignored.
type transactionJSON struct {
	Number     string     `json:"number"`     // required; equals the number asked for
	Account    string     `json:"account"`    // required; the account that may use it
	Status     string     `json:"status"`     // required: "approved", "rejected" or "pending"
	Name       string     `json:"name"`       // the validated person's full name
	IDType     string     `json:"idType"`     // identification type, e.g. "CC"
	IDNumber   string     `json:"idNumber"`   // identification number
	Email      string     `json:"email"`      // optional
	CreatedAt  *time.Time `json:"createdAt"`  // optional, RFC 3339
	ExpiresAt  *time.Time `json:"expiresAt"`  // optional, RFC 3339; absent or null: no expiry
	RevokedAt  *time.Time `json:"revokedAt"`  // optional, RFC 3339; set when revoked
	ConsumedAt *time.Time `json:"consumedAt"` // optional, RFC 3339; set when used
}

// Transaction fetches the transaction with the given number. It returns
// identity.ErrNotFound on 404, ErrCircuitOpen while the breaker is open,
// ErrMalformed for a body that breaks the contract, a *StatusError for other
// statuses, and the context's error when ctx ends first.
func (c *Client) Transaction(ctx context.Context, account, number string) (*identity.Transaction, error) {
	var t *identity.Transaction
	err := c.guard(ctx, func() (err error) {
		t, err = c.fetch(ctx, account, number)
		return err
	})
	return t, err
}

// Consume asks the service to mark the account's transaction used, with
// POST {BaseURL}/transactions/{number}/consume?account={account}. The
// service answers 200 or 204 when this call consumed it, 409 when it was
// consumed before (identity.ErrConsumed), or 404 (identity.ErrNotFound).
// Consume is not retried: after an answer lost on the way, a retry would
// find the transaction consumed by this very call.
func (c *Client) Consume(ctx context.Context, account, number string) error {
	return c.guard(ctx, func() error {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		resp, err := c.do(ctx, http.MethodPost, account, number, "/consume")
		if err != nil {
			return fmt.Errorf("remote: consume transaction %q: %w", number, err)
		}
		defer drain(resp)
		switch {
		case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusNoContent:
			return nil
		case resp.StatusCode == http.StatusConflict:
			return fmt.Errorf("remote: consume transaction %q: %w", number, identity.ErrConsumed)
		case resp.StatusCode == http.StatusNotFound:
			return fmt.Errorf("remote: consume transaction %q: %w", number, identity.ErrNotFound)
		default:
			return fmt.Errorf("remote: consume transaction %q: %w", number, &StatusError{Code: resp.StatusCode})
		}
	})
}

// guard runs call under the circuit breaker. Answers that show the service
// working (found, not found, consumed, refused) close the breaker; faults
// of the service or the network count against it. A caller that gave up is
// nobody's fault.
func (c *Client) guard(ctx context.Context, call func() error) error {
	if err := c.breaker.allow(c.now()); err != nil {
		return err
	}
	err := call()
	var se *StatusError
	switch {
	case err == nil, errors.Is(err, identity.ErrNotFound), errors.Is(err, identity.ErrConsumed),
		errors.As(err, &se) && se.Code < 500:
		c.breaker.record(c.now(), true)
	case errors.Is(ctx.Err(), context.Canceled):
		c.breaker.release()
	default:
		c.breaker.record(c.now(), false)
	}
	return err
}

// do sends one request for the transaction's URL plus suffix.
func (c *Client) do(ctx context.Context, method, account, number, suffix string) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + "/transactions/" + number + suffix
	u.RawPath = c.base.EscapedPath() + "/transactions/" + url.PathEscape(number) + suffix
	if account != "" {
		u.RawQuery = url.Values{"account": {account}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if c.credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}
	return c.hc.Do(req)
}

// drain reads a little of the body, so the connection can be reused, and
// closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes))
	resp.Body.Close()
}

func (c *Client) fetch(ctx context.Context, account, number string) (*identity.Transaction, error) {
	for attempt := 0; ; attempt++ {
		t, retry, err := c.attempt(ctx, account, number)
		if err == nil {
			return t, nil
		}
		if !retry || attempt >= c.retries || ctx.Err() != nil || c.wait(ctx, attempt+1) != nil {
			if attempt > 0 {
				return nil, fmt.Errorf("remote: transaction %q after %d attempts: %w", number, attempt+1, err)
			}
			return nil, fmt.Errorf("remote: transaction %q: %w", number, err)
		}
	}
}

// wait sleeps before retry n (from 1), with full jitter, or until ctx ends.
func (c *Client) wait(ctx context.Context, n int) error {
	limit := c.backoff[0] << min(n-1, 20)
	if limit <= 0 || limit > c.backoff[1] {
		limit = c.backoff[1]
	}
	timer := time.NewTimer(rand.N(limit + 1))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt makes one request. retry reports whether a failure may go away on
// another attempt (network errors, timeouts, 5xx).
func (c *Client) attempt(ctx context.Context, account, number string) (t *identity.Transaction, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, account, number, "")
	if err != nil {
		return nil, true, err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, false, identity.ErrNotFound
	case resp.StatusCode >= 500:
		return nil, true, &StatusError{Code: resp.StatusCode}
	default:
		return nil, false, &StatusError{Code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		// The body broke off: a network fault, worth another try.
		return nil, true, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, false, fmt.Errorf("%w: body larger than %d bytes", ErrMalformed, maxBodyBytes)
	}
	t, err = decode(body, number)
	return t, false, err
}

// decode parses and checks a 200 body for the transaction number asked for.
func decode(body []byte, number string) (*identity.Transaction, error) {
	var j transactionJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var problems []string
	if j.Number != number {
		problems = append(problems, fmt.Sprintf("number %q, asked for %q", j.Number, number))
	}
	if j.Account == "" {
		problems = append(problems, "no account")
	}
	if !identity.Status(j.Status).Valid() {
		problems = append(problems, fmt.Sprintf("status %q", j.Status))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, strings.Join(problems, "; "))
	}
	t := &identity.Transaction{
		Number:     j.Number,
		Account:    j.Account,
		Name:       j.Name,
		IDType:     j.IDType,
		IDNumber:   j.IDNumber,
		Email:      j.Email,
		Status:     identity.Status(j.Status),
		RevokedAt:  j.RevokedAt,
		ConsumedAt: j.ConsumedAt,
	}
	if j.CreatedAt != nil {
		t.CreatedAt = *j.CreatedAt
	}
	if j.ExpiresAt != nil {
		t.ExpiresAt = *j.ExpiresAt
	}
	return t, nil
}
