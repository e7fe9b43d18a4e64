package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/clocktest"
	"sello/internal/identity"
	"sello/internal/identity/identitytest"
	"sello/internal/identity/remote"
)

const credential = "s3cret-credential"

var created = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// fakeService implements the contract in the package documentation. fault,
// when set, answers a request instead of the contract (it returns false to
// let the contract answer).
type fakeService struct {
	hits  atomic.Int32
	fault func(w http.ResponseWriter, r *http.Request, hit int32) bool

	mu       sync.Mutex
	consumed map[string]bool
}

func (s *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hit := s.hits.Add(1)
	if s.fault != nil && s.fault(w, r, hit) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+credential {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	number, ok := strings.CutPrefix(r.URL.Path, "/idv/transactions/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if number, ok := strings.CutSuffix(number, "/consume"); ok && r.Method == http.MethodPost {
		s.consume(w, r, number)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch number {
	case "7f3a9c", "a/b c":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"number": number, "account": r.URL.Query().Get("account"), "status": "approved",
			"name": "José Núñez", "idType": "CC", "idNumber": "1020304050", "email": "jose@example.com",
			"createdAt": created, "expiresAt": created.Add(time.Hour), "revokedAt": nil, "extra": true,
		})
	default:
		http.NotFound(w, r)
	}
}

// consume implements POST /transactions/{number}/consume for 7f3a9c,
// deciding concurrent calls under a lock.
func (s *fakeService) consume(w http.ResponseWriter, r *http.Request, number string) {
	if number != "7f3a9c" || r.URL.Query().Get("account") != "ACME" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.consumed[number] {
		http.Error(w, "already consumed", http.StatusConflict)
		return
	}
	if s.consumed == nil {
		s.consumed = make(map[string]bool)
	}
	s.consumed[number] = true
	w.WriteHeader(http.StatusNoContent)
}

func mustServer(t *testing.T, s *fakeService) string {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL + "/idv/"
}

func mustClient(t *testing.T, opts remote.Options) *remote.Client {
	t.Helper()
	if opts.Credential == "" {
		opts.Credential = credential
	}
	if opts.BackoffBase == 0 {
		opts.BackoffBase, opts.BackoffMax = time.Millisecond, 5*time.Millisecond
	}
	c, err := remote.New(opts)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return c
}

func TestTransaction(t *testing.T) {
	t.Parallel()
	want := &identity.Transaction{
		Number: "7f3a9c", Account: "ACME", Name: "José Núñez", IDType: "CC", IDNumber: "1020304050",
		Email: "jose@example.com", Status: identity.StatusApproved, CreatedAt: created, ExpiresAt: created.Add(time.Hour),
	}
	escaped := *want
	escaped.Number = "a/b c"
	malformed := func(body string) func(http.ResponseWriter, *http.Request, int32) bool {
		return func(w http.ResponseWriter, _ *http.Request, _ int32) bool {
			w.Write([]byte(body))
			return true
		}
	}
	status := func(code int) func(http.ResponseWriter, *http.Request, int32) bool {
		return func(w http.ResponseWriter, _ *http.Request, _ int32) bool {
			w.WriteHeader(code)
			return true
		}
	}
	tests := []struct {
		name       string
		number     string
		credential string
		fault      func(http.ResponseWriter, *http.Request, int32) bool
		want       *identity.Transaction
		wantErr    error
		wantStatus int
		wantHits   int32
	}{
		{name: "Approved", number: "7f3a9c", want: want, wantHits: 1},
		{name: "PathEscaped", number: "a/b c", want: &escaped, wantHits: 1},
		{name: "NotFound", number: "nope", wantErr: identity.ErrNotFound, wantHits: 1},
		{name: "Unauthorized", number: "7f3a9c", credential: "wrong", wantStatus: 401, wantHits: 1},
		{name: "TooManyRequestsNotRetried", number: "7f3a9c", fault: status(429), wantStatus: 429, wantHits: 1},
		{name: "ServerErrorRetried", number: "7f3a9c", fault: status(503), wantStatus: 503, wantHits: 3},
		{
			name:   "ServerErrorThenOK",
			number: "7f3a9c",
			fault: func(w http.ResponseWriter, _ *http.Request, hit int32) bool {
				if hit <= 2 {
					w.WriteHeader(http.StatusBadGateway)
					return true
				}
				return false
			},
			want:     want,
			wantHits: 3,
		},
		{name: "MalformedJSON", number: "7f3a9c", fault: malformed(`{"number": "7f3a9c",`), wantErr: remote.ErrMalformed, wantHits: 1},
		{name: "NotAnObject", number: "7f3a9c", fault: malformed(`[1,2]`), wantErr: remote.ErrMalformed, wantHits: 1},
		{name: "OtherNumber", number: "7f3a9c", fault: malformed(`{"number":"x","account":"ACME","status":"approved"}`), wantErr: remote.ErrMalformed, wantHits: 1},
		{name: "UnknownStatus", number: "7f3a9c", fault: malformed(`{"number":"7f3a9c","account":"ACME","status":"ok"}`), wantErr: remote.ErrMalformed, wantHits: 1},
		{name: "NoAccount", number: "7f3a9c", fault: malformed(`{"number":"7f3a9c","status":"approved"}`), wantErr: remote.ErrMalformed, wantHits: 1},
		{name: "BadTime", number: "7f3a9c", fault: malformed(`{"number":"7f3a9c","account":"ACME","status":"approved","expiresAt":"tomorrow"}`), wantErr: remote.ErrMalformed, wantHits: 1},
		{name: "TooLarge", number: "7f3a9c", fault: malformed(`{"name":"` + strings.Repeat("x", 70<<10) + `"}`), wantErr: remote.ErrMalformed, wantHits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeService{fault: tt.fault}
			c := mustClient(t, remote.Options{BaseURL: mustServer(t, svc), Credential: tt.credential, MaxRetries: 2})
			got, err := c.Transaction(t.Context(), "ACME", tt.number)
			switch {
			case tt.wantStatus != 0:
				var se *remote.StatusError
				if !errors.As(err, &se) || se.Code != tt.wantStatus {
					t.Errorf("Transaction = %v, want status %d", err, tt.wantStatus)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Transaction = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("Transaction = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Transaction mismatch (-want +got):\n%s", diff)
			}
			if n := svc.hits.Load(); n != tt.wantHits {
				t.Errorf("service got %d requests, want %d", n, tt.wantHits)
			}
			if err != nil && strings.Contains(err.Error(), credential) {
				t.Errorf("error %q shows the credential", err)
			}
		})
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNetworkErrorRetried(t *testing.T) {
	t.Parallel()
	svc := &fakeService{}
	base := mustServer(t, svc)
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := mustClient(t, remote.Options{BaseURL: base, HTTPClient: hc})
	if _, err := c.Transaction(t.Context(), "ACME", "7f3a9c"); err != nil {
		t.Fatalf("Transaction = %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("round trips = %d, want 2", n)
	}
}

// slowService answers only when the request's context ends or the test is
// over, like a service that hangs.
func slowService(t *testing.T) *fakeService {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return &fakeService{fault: func(_ http.ResponseWriter, r *http.Request, _ int32) bool {
		select {
		case <-r.Context().Done():
		case <-done:
		}
		return true
	}}
}

func TestSlowServiceDeadlines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		timeout    time.Duration // per attempt
		retries    int
		ctxTimeout time.Duration // caller's deadline, 0 for none
		wantTries  int32
	}{
		{name: "PerAttemptTimeout", timeout: 20 * time.Millisecond, retries: -1, wantTries: 1},
		{name: "PerAttemptTimeoutRetried", timeout: 20 * time.Millisecond, retries: 2, wantTries: 3},
		{name: "CallerDeadline", timeout: time.Minute, retries: 3, ctxTimeout: 30 * time.Millisecond, wantTries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := slowService(t)
			// Attempts are counted as the client makes them: on a busy
			// machine an attempt can time out before the service's
			// handler sees it.
			var tries atomic.Int32
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				tries.Add(1)
				return http.DefaultTransport.RoundTrip(r)
			})}
			c := mustClient(t, remote.Options{BaseURL: mustServer(t, svc), HTTPClient: hc, Timeout: tt.timeout, MaxRetries: tt.retries})
			ctx := t.Context()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			_, err := c.Transaction(ctx, "ACME", "7f3a9c")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Transaction = %v, want %v", err, context.DeadlineExceeded)
			}
			if n := tries.Load(); n != tt.wantTries {
				t.Errorf("client made %d attempts, want %d", n, tt.wantTries)
			}
		})
	}
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	svc := &fakeService{fault: func(w http.ResponseWriter, _ *http.Request, _ int32) bool {
		if healthy.Load() {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		return true
	}}
	clock := clocktest.New(created)
	c := mustClient(t, remote.Options{
		BaseURL: mustServer(t, svc), MaxRetries: -1,
		BreakerThreshold: 3, BreakerCooldown: time.Minute, Now: clock.Now,
	})
	type step struct {
		name     string
		advance  time.Duration
		healthy  bool
		number   string
		wantErr  error // nil: success; errServer: a 500
		wantHits int32 // cumulative
	}
	errServer := errors.New("500")
	steps := []step{
		{name: "Fail1", wantErr: errServer, wantHits: 1},
		{name: "Fail2", wantErr: errServer, wantHits: 2},
		{name: "Fail3Opens", wantErr: errServer, wantHits: 3},
		{name: "OpenRefuses", wantErr: remote.ErrCircuitOpen, wantHits: 3},
		{name: "StillOpen", advance: 59 * time.Second, healthy: true, wantErr: remote.ErrCircuitOpen, wantHits: 3},
		{name: "HalfOpenTrialFails", advance: time.Second, wantErr: errServer, wantHits: 4},
		{name: "ReopenedRefuses", wantErr: remote.ErrCircuitOpen, wantHits: 4},
		{name: "HalfOpenTrialSucceeds", advance: time.Minute, healthy: true, wantHits: 5},
		{name: "Closed", healthy: true, wantHits: 6},
		{name: "NotFoundKeepsClosed", healthy: true, number: "nope", wantErr: identity.ErrNotFound, wantHits: 7},
		{name: "FailAgain1", wantErr: errServer, wantHits: 8},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		healthy.Store(s.healthy)
		number := s.number
		if number == "" {
			number = "7f3a9c"
		}
		_, err := c.Transaction(t.Context(), "ACME", number)
		var se *remote.StatusError
		switch {
		case s.wantErr == nil && err != nil:
			t.Errorf("%s: Transaction = %v, want success", s.name, err)
		case s.wantErr == errServer && !(errors.As(err, &se) && se.Code == 500):
			t.Errorf("%s: Transaction = %v, want status 500", s.name, err)
		case s.wantErr != nil && s.wantErr != errServer && !errors.Is(err, s.wantErr):
			t.Errorf("%s: Transaction = %v, want %v", s.name, err, s.wantErr)
		}
		if n := svc.hits.Load(); n != s.wantHits {
			t.Fatalf("%s: service got %d requests, want %d", s.name, n, s.wantHits)
		}
	}
}

func TestCheckerWithUnreachableService(t *testing.T) {
	t.Parallel()
	svc := slowService(t)
	c := mustClient(t, remote.Options{BaseURL: mustServer(t, svc), Timeout: 10 * time.Millisecond, MaxRetries: 1})
	checker := identity.NewChecker(identity.CheckerOptions{Provider: c})
	_, err := checker.Check(t.Context(), "ACME", "7f3a9c")
	var re *identity.RuleError
	if !errors.As(err, &re) || re.Rule != identity.RuleUnavailable || !errors.Is(err, identity.ErrNotValidated) {
		t.Errorf("Check = %v, want rule %v matching ErrNotValidated", err, identity.RuleUnavailable)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base string
		ok   bool
	}{
		{"http://127.0.0.1:8080/idv", true},
		{"https://idv.example/api/v1/", true},
		{"", false},
		{"idv.example/api", false},
		{"ftp://idv.example/", false},
		{"http://", false},
		{"http://a b/", false},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			t.Parallel()
			_, err := remote.New(remote.Options{BaseURL: tt.base})
			if (err == nil) != tt.ok {
				t.Errorf("New(%q) = %v, want ok=%v", tt.base, err, tt.ok)
			}
		})
	}
}

func TestOptionsLogValueRedacts(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	logger.Info("provider", "options", remote.Options{BaseURL: "https://idv.example", Credential: credential})
	if strings.Contains(buf.String(), credential) || !strings.Contains(buf.String(), "[redacted]") {
		t.Errorf("log line %q shows the credential or lacks [redacted]", buf.String())
	}
}

func TestConsume(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		account  string
		number   string
		fault    func(http.ResponseWriter, *http.Request, int32) bool
		calls    int
		wantErrs []error // one per call; nil means success
		wantHits int32
	}{
		{name: "Once", account: "ACME", number: "7f3a9c", calls: 1, wantErrs: []error{nil}, wantHits: 1},
		{name: "Twice", account: "ACME", number: "7f3a9c", calls: 2, wantErrs: []error{nil, identity.ErrConsumed}, wantHits: 2},
		{name: "Unknown", account: "ACME", number: "nope", calls: 1, wantErrs: []error{identity.ErrNotFound}, wantHits: 1},
		{name: "OtherAccount", account: "OTHER", number: "7f3a9c", calls: 1, wantErrs: []error{identity.ErrNotFound}, wantHits: 1},
		{
			name: "ServerErrorNotRetried", account: "ACME", number: "7f3a9c", calls: 1,
			fault: func(w http.ResponseWriter, _ *http.Request, _ int32) bool {
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			},
			wantErrs: []error{errStatus}, wantHits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeService{fault: tt.fault}
			c := mustClient(t, remote.Options{BaseURL: mustServer(t, svc)})
			for i := range tt.calls {
				err := c.Consume(t.Context(), tt.account, tt.number)
				want := tt.wantErrs[i]
				var se *remote.StatusError
				switch {
				case want == nil && err != nil:
					t.Errorf("call %d: Consume = %v, want nil", i, err)
				case want == errStatus && !errors.As(err, &se):
					t.Errorf("call %d: Consume = %v, want a *StatusError", i, err)
				case want != nil && want != errStatus && !errors.Is(err, want):
					t.Errorf("call %d: Consume = %v, want %v", i, err, want)
				}
			}
			if n := svc.hits.Load(); n != tt.wantHits {
				t.Errorf("service got %d requests, want %d", n, tt.wantHits)
			}
		})
	}
}

// errStatus stands for "any *remote.StatusError" in test tables.
var errStatus = errors.New("status error")

func TestCheckerSingleUseThroughService(t *testing.T) {
	t.Parallel()
	svc := &fakeService{}
	c := mustClient(t, remote.Options{BaseURL: mustServer(t, svc)})
	checker := identity.NewChecker(identity.CheckerOptions{Provider: c, Consumer: c, Now: func() time.Time { return created }})
	const requests = 8
	var wg sync.WaitGroup
	errs := make([]error, requests)
	for i := range requests {
		wg.Go(func() {
			signer, err := checker.Check(t.Context(), "ACME", "7f3a9c")
			if err == nil {
				err = checker.Consume(t.Context(), "ACME", signer)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	identitytest.CheckOneWinner(t, errs, true)
}
