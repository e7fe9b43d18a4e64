package identity_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/identity"
	"sello/internal/identity/identitytest"
)

var now = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return now }

// providerFunc adapts a function to identity.Provider.
type providerFunc func(ctx context.Context, account, number string) (*identity.Transaction, error)

func (f providerFunc) Transaction(ctx context.Context, account, number string) (*identity.Transaction, error) {
	return f(ctx, account, number)
}

func mustStore(t *testing.T) *identitytest.Memory {
	t.Helper()
	s := identitytest.NewMemory(fixedNow)
	approved := identity.Transaction{
		Account: "ACME", Name: "José Núñez", IDType: "CC", IDNumber: "1020304050",
		Email: "jose@example.com", Status: identity.StatusApproved,
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour),
	}
	add := func(number string, edit func(*identity.Transaction)) {
		tr := approved
		tr.Number = number
		if edit != nil {
			edit(&tr)
		}
		if err := s.CreateTransaction(t.Context(), &tr); err != nil {
			t.Fatalf("CreateTransaction(%s) = %v", number, err)
		}
	}
	add("ok", nil)
	add("noexpiry", func(tr *identity.Transaction) { tr.ExpiresAt = time.Time{} })
	add("rejected", func(tr *identity.Transaction) { tr.Status = identity.StatusRejected })
	add("pending", func(tr *identity.Transaction) { tr.Status = identity.StatusPending })
	add("expired", func(tr *identity.Transaction) { tr.CreatedAt, tr.ExpiresAt = now.Add(-2*time.Hour), now })
	add("revoked", nil)
	add("other", func(tr *identity.Transaction) { tr.Account = "OTHER" })
	add("consumed", nil)
	if err := s.RevokeTransaction(t.Context(), "revoked", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(t.Context(), "ACME", "consumed"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	t.Parallel()
	jose := &identity.Signer{
		Name: "José Núñez", IDType: "CC", IDNumber: "1020304050", Email: "jose@example.com",
		Source: identity.SourceTransaction, Transaction: "ok",
	}
	withNumber := func(s *identity.Signer, n string) *identity.Signer { c := *s; c.Transaction = n; return &c }
	tests := []struct {
		name        string
		clientInfo  string
		singleUse   bool
		allowClient bool
		want        *identity.Signer
		wantRule    identity.Rule
	}{
		{name: "Approved", clientInfo: "ok", want: jose},
		{name: "ApprovedTrimmed", clientInfo: "  ok\n", want: jose},
		{name: "NoExpiry", clientInfo: "noexpiry", want: withNumber(jose, "noexpiry")},
		{name: "ConsumedWithoutSingleUse", clientInfo: "consumed", want: withNumber(jose, "consumed")},
		{name: "Unknown", clientInfo: "nope", wantRule: identity.RuleUnknown},
		{name: "Empty", clientInfo: "", wantRule: identity.RuleUnknown},
		{name: "TooLong", clientInfo: strings.Repeat("a", identity.MaxNumberLen+1), wantRule: identity.RuleUnknown},
		{name: "Rejected", clientInfo: "rejected", wantRule: identity.RuleRejected},
		{name: "Pending", clientInfo: "pending", wantRule: identity.RulePending},
		{name: "ExpiredAtExactEnd", clientInfo: "expired", wantRule: identity.RuleExpired},
		{name: "Revoked", clientInfo: "revoked", wantRule: identity.RuleRevoked},
		{name: "OtherAccount", clientInfo: "other", wantRule: identity.RuleOtherAccount},
		{name: "ConsumedSingleUse", clientInfo: "consumed", singleUse: true, wantRule: identity.RuleConsumed},
		{name: "InvalidJSONIsANumber", clientInfo: `{"name":`, wantRule: identity.RuleUnknown},
		{name: "ClientDataRefused", clientInfo: `{"name":"Ana","identification":"CC 1"}`, wantRule: identity.RuleClientDataRefused},
		{
			name:        "ClientData",
			clientInfo:  ` {"name":" Ana Conceição ","identification":"CC  1020304050","email":"a@b.co","reason":"Acuerdo","location":"Bogotá","extra":1}`,
			allowClient: true,
			want: &identity.Signer{
				Name: "Ana Conceição", IDType: "CC", IDNumber: "1020304050", Email: "a@b.co",
				Source: identity.SourceClient, Reason: "Acuerdo", Location: "Bogotá",
			},
		},
		{
			name:        "ClientDataNumberOnly",
			clientInfo:  `{"name":"Ana","identification":"1020304050"}`,
			allowClient: true,
			want:        &identity.Signer{Name: "Ana", IDNumber: "1020304050", Source: identity.SourceClient},
		},
		{name: "ClientDataNoName", clientInfo: `{"identification":"CC 1"}`, allowClient: true, wantRule: identity.RuleClientDataInvalid},
		{name: "ClientDataNoIdentification", clientInfo: `{"name":"Ana","identification":"  "}`, allowClient: true, wantRule: identity.RuleClientDataInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustStore(t)
			opts := identity.CheckerOptions{Provider: s, AllowClientData: tt.allowClient, Now: fixedNow}
			if tt.singleUse {
				opts.Consumer = s
			}
			got, err := identity.NewChecker(opts).Check(t.Context(), "ACME", tt.clientInfo)
			if tt.wantRule != 0 {
				var re *identity.RuleError
				if !errors.As(err, &re) || re.Rule != tt.wantRule {
					t.Fatalf("Check(%q) = %v, %v; want rule %v", tt.clientInfo, got, err, tt.wantRule)
				}
				if !errors.Is(err, identity.ErrNotValidated) {
					t.Errorf("Check(%q) error %v does not match ErrNotValidated", tt.clientInfo, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check(%q) = %v", tt.clientInfo, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tt.clientInfo, diff)
			}
		})
	}
}

func TestCheckProviderFailure(t *testing.T) {
	t.Parallel()
	errDown := errors.New("connection refused")
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		provider providerFunc
		wantRule identity.Rule
		wantErr  error
	}{
		{
			name:     "Down",
			ctx:      t.Context(),
			provider: func(context.Context, string, string) (*identity.Transaction, error) { return nil, errDown },
			wantRule: identity.RuleUnavailable,
			wantErr:  errDown,
		},
		{
			name: "NotFoundWrapped",
			ctx:  t.Context(),
			provider: func(_ context.Context, _, n string) (*identity.Transaction, error) {
				return nil, fmt.Errorf("lookup %s: %w", n, identity.ErrNotFound)
			},
			wantRule: identity.RuleUnknown,
			wantErr:  identity.ErrNotFound,
		},
		{
			name:     "NilTransaction",
			ctx:      t.Context(),
			provider: func(context.Context, string, string) (*identity.Transaction, error) { return nil, nil },
			wantRule: identity.RuleUnavailable,
		},
		{
			name: "ContextEnded",
			ctx:  canceled,
			provider: func(context.Context, string, string) (*identity.Transaction, error) {
				t.Error("provider called with an ended context")
				return nil, nil
			},
			wantRule: identity.RuleUnavailable,
			wantErr:  context.Canceled,
		},
		{
			name: "ApprovedWithoutName",
			ctx:  t.Context(),
			provider: func(_ context.Context, a, n string) (*identity.Transaction, error) {
				return &identity.Transaction{Number: n, Account: a, Status: identity.StatusApproved, IDNumber: "1"}, nil
			},
			wantRule: identity.RuleRejected,
		},
		{
			name: "UnknownStatus",
			ctx:  t.Context(),
			provider: func(_ context.Context, a, n string) (*identity.Transaction, error) {
				return &identity.Transaction{Number: n, Account: a, Status: "weird", Name: "A", IDNumber: "1"}, nil
			},
			wantRule: identity.RuleRejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := identity.NewChecker(identity.CheckerOptions{Provider: tt.provider, Now: fixedNow})
			_, err := c.Check(tt.ctx, "ACME", "7f3a9c")
			var re *identity.RuleError
			if !errors.As(err, &re) || re.Rule != tt.wantRule {
				t.Fatalf("Check = %v, want rule %v", err, tt.wantRule)
			}
			if !errors.Is(err, identity.ErrNotValidated) {
				t.Errorf("Check error %v does not match ErrNotValidated", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Check error %v does not wrap %v", err, tt.wantErr)
			}
		})
	}
}

func TestConsumeSingleUseRace(t *testing.T) {
	t.Parallel()
	s := mustStore(t)
	c := identity.NewChecker(identity.CheckerOptions{Provider: s, Consumer: s, Now: fixedNow})
	const requests = 8
	var wg sync.WaitGroup
	errs := make([]error, requests)
	for i := range requests {
		wg.Go(func() {
			signer, err := c.Check(t.Context(), "ACME", "ok")
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = c.Consume(t.Context(), "ACME", signer)
		})
	}
	wg.Wait()
	identitytest.CheckOneWinner(t, errs, true)
	if _, err := c.Check(t.Context(), "ACME", "ok"); !errors.Is(err, identity.ErrNotValidated) {
		t.Errorf("Check after consumption = %v, want ErrNotValidated", err)
	}
}

func TestConsumeNoOp(t *testing.T) {
	t.Parallel()
	s := mustStore(t)
	tests := []struct {
		name     string
		consumer identity.Consumer
		signer   *identity.Signer
	}{
		{"NotSingleUse", nil, &identity.Signer{Source: identity.SourceTransaction, Transaction: "ok"}},
		{"ClientData", s, &identity.Signer{Source: identity.SourceClient, Name: "Ana"}},
		{"NilSigner", s, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := identity.NewChecker(identity.CheckerOptions{Provider: s, Consumer: tt.consumer})
			if err := c.Consume(t.Context(), "ACME", tt.signer); err != nil {
				t.Errorf("Consume = %v, want nil", err)
			}
		})
	}
	if tr, err := s.Transaction(t.Context(), "ACME", "ok"); err != nil || tr.ConsumedAt != nil {
		t.Errorf("transaction after no-op consumes = %+v, %v; want not consumed", tr, err)
	}
}

func TestParseIdentification(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, wantType, wantNumber string }{
		{"CC 1020304050", "CC", "1020304050"},
		{"  NIT\t900123456-7 ", "NIT", "900123456-7"},
		{"1020304050", "", "1020304050"},
		{"", "", ""},
		{"PAS  AB 123", "PAS", "AB 123"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			gotType, gotNumber := identity.ParseIdentification(tt.in)
			if gotType != tt.wantType || gotNumber != tt.wantNumber {
				t.Errorf("ParseIdentification(%q) = %q, %q; want %q, %q", tt.in, gotType, gotNumber, tt.wantType, tt.wantNumber)
			}
		})
	}
}

func TestTransactionValidate(t *testing.T) {
	t.Parallel()
	good := identity.Transaction{
		Number: "7f3a9c", Account: "ACME", Name: "José", IDNumber: "1", Status: identity.StatusApproved,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	tests := []struct {
		name string
		edit func(*identity.Transaction)
		ok   bool
	}{
		{"Good", func(*identity.Transaction) {}, true},
		{"NoExpiry", func(tr *identity.Transaction) { tr.ExpiresAt = time.Time{} }, true},
		{"EmptyNumber", func(tr *identity.Transaction) { tr.Number = "" }, false},
		{"SpaceInNumber", func(tr *identity.Transaction) { tr.Number = "7f 3a" }, false},
		{"ControlInNumber", func(tr *identity.Transaction) { tr.Number = "7f\x00" }, false},
		{"NoAccount", func(tr *identity.Transaction) { tr.Account = " " }, false},
		{"NoName", func(tr *identity.Transaction) { tr.Name = "" }, false},
		{"NoIDNumber", func(tr *identity.Transaction) { tr.IDNumber = "" }, false},
		{"BadStatus", func(tr *identity.Transaction) { tr.Status = "done" }, false},
		{"NoCreationTime", func(tr *identity.Transaction) { tr.CreatedAt = time.Time{} }, false},
		{"ExpiresBeforeCreated", func(tr *identity.Transaction) { tr.ExpiresAt = now.Add(-time.Second) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := good
			tt.edit(&tr)
			err := tr.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, identity.ErrInvalid) {
				t.Errorf("Validate = %v, want %v", err, identity.ErrInvalid)
			}
		})
	}
}

func TestRuleString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule identity.Rule
		want string
	}{
		{identity.RuleUnknown, "unknown"},
		{identity.RuleOtherAccount, "other_account"},
		{identity.RuleClientDataInvalid, "client_data_invalid"},
		{identity.Rule(0), "rule(0)"},
		{identity.Rule(99), "rule(99)"},
	}
	for _, tt := range tests {
		if got := tt.rule.String(); got != tt.want {
			t.Errorf("Rule(%d).String() = %q, want %q", int(tt.rule), got, tt.want)
		}
	}
}
