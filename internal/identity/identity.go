package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is the outcome of an identity validation, as the provider reports it.
type Status string

// The statuses a transaction can have. Only [StatusApproved] may sign.
const (
	StatusApproved Status = "approved"
	StatusRejected Status = "rejected"
	StatusPending  Status = "pending"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusApproved, StatusRejected, StatusPending:
		return true
	}
	return false
}

// MaxNumberLen is the longest transaction number accepted, in bytes. Longer
// clientInfo strings are refused without asking the provider.
const MaxNumberLen = 128

// Transaction is one identity validation: the person it validated, the
// account it was made for, and its state. A zero ExpiresAt means the
// transaction does not expire; a nil RevokedAt or ConsumedAt means it was
// not revoked or consumed.
type Transaction struct {
	Number     string
	Account    string
	Name       string
	IDType     string
	IDNumber   string
	Email      string
	Status     Status
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	ConsumedAt *time.Time
}

// Validate reports whether t can be stored: a well-formed number, an
// account, a name, an identification number, a known status, a creation
// time, and an expiry (if any) after its creation. The error wraps
// [ErrInvalid] and lists every problem.
func (t *Transaction) Validate() error {
	var problems []string
	if err := ValidateNumber(t.Number); err != nil {
		problems = append(problems, err.Error())
	}
	if strings.TrimSpace(t.Account) == "" {
		problems = append(problems, "account is empty")
	}
	if strings.TrimSpace(t.Name) == "" {
		problems = append(problems, "name is empty")
	}
	if strings.TrimSpace(t.IDNumber) == "" {
		problems = append(problems, "identification number is empty")
	}
	if !t.Status.Valid() {
		problems = append(problems, fmt.Sprintf("status %q is not approved, rejected or pending", t.Status))
	}
	if t.CreatedAt.IsZero() {
		problems = append(problems, "creation time is missing")
	}
	if !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(t.CreatedAt) {
		problems = append(problems, "expiry is not after creation")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// ValidateNumber reports whether number can name a transaction: 1 to
// [MaxNumberLen] bytes of printable UTF-8 without spaces. The error wraps
// [ErrInvalid].
func ValidateNumber(number string) error {
	switch {
	case number == "":
		return fmt.Errorf("%w: transaction number is empty", ErrInvalid)
	case len(number) > MaxNumberLen:
		return fmt.Errorf("%w: transaction number is longer than %d bytes", ErrInvalid, MaxNumberLen)
	case !utf8.ValidString(number):
		return fmt.Errorf("%w: transaction number is not UTF-8", ErrInvalid)
	}
	for _, r := range number {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%w: transaction number contains %q", ErrInvalid, r)
		}
	}
	return nil
}

// Provider finds identity-validation transactions.
type Provider interface {
	// Transaction returns the transaction with the given number. account is
	// the account asking; a provider may use it to scope its lookup, but the
	// caller checks the returned transaction's Account itself. It returns
	// ErrNotFound, wrapped, when no such transaction exists, and any other
	// error when the provider cannot answer. Safe for concurrent use.
	Transaction(ctx context.Context, account, number string) (*Transaction, error)
}

// Consumer marks transactions as used, for single-use validation.
type Consumer interface {
	// Consume marks the account's transaction as consumed. Exactly one of
	// any number of concurrent callers succeeds; the others get
	// ErrConsumed. It returns ErrNotFound when the account has no such
	// transaction. Safe for concurrent use.
	Consume(ctx context.Context, account, number string) error
}

// Store keeps the transactions of the embedded provider, which the
// administrator manages from the command line. Implementations are safe for
// concurrent use and return the errors documented on each method, wrapped.
type Store interface {
	Provider
	Consumer
	// CreateTransaction stores t. It returns ErrConflict when a transaction
	// with the same number exists and ErrInvalid when t.Validate fails.
	CreateTransaction(ctx context.Context, t *Transaction) error
	// ListTransactions returns the transactions of account, or of every
	// account when account is empty, newest first.
	ListTransactions(ctx context.Context, account string) ([]Transaction, error)
	// RevokeTransaction marks the transaction revoked at the given time. A
	// transaction already revoked keeps its first revocation time. It
	// returns ErrNotFound for an unknown number.
	RevokeTransaction(ctx context.Context, number string, at time.Time) error
}

// Errors returned by providers and stores.
var (
	ErrNotFound = errors.New("identity: transaction not found")
	ErrConflict = errors.New("identity: transaction already exists")
	ErrConsumed = errors.New("identity: transaction already consumed")
	ErrInvalid  = errors.New("identity: invalid transaction")
)

// ErrNotValidated reports that the signer's identity could not be
// established. Every [*RuleError] matches it with errors.Is; it is what makes
// a document fail with "Identity validation error."
var ErrNotValidated = errors.New("identity: not validated")
