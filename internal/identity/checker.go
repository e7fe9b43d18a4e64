package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sources of a [Signer]'s data.
const (
	SourceTransaction = "transaction" // validated by an identity-validation transaction
	SourceClient      = "client"      // stated by the API client in clientInfo
)

// Signer is the person a signature names. Source is [SourceTransaction] or
// [SourceClient]; Transaction is the transaction number when Source is
// SourceTransaction. Reason and Location come only from client data.
type Signer struct {
	Name        string
	IDType      string
	IDNumber    string
	Email       string
	Source      string
	Transaction string
	Reason      string
	Location    string
}

// Identification returns the signer's identification as "TYPE NUMBER", or
// only the number when the type is unknown.
func (s *Signer) Identification() string {
	if s.IDType == "" {
		return s.IDNumber
	}
	return s.IDType + " " + s.IDNumber
}

// ParseIdentification splits an identification such as "CC 1020304050" into
// its type ("CC") and number ("1020304050") at the first run of white space.
// Without white space the whole text is the number and the type is empty.
func ParseIdentification(s string) (idType, idNumber string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, isSpace)
	if i < 0 {
		return "", s
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// CheckerOptions configures a [Checker].
type CheckerOptions struct {
	// Provider finds transactions. Required.
	Provider Provider
	// Consumer, when set, makes transactions single-use: a consumed
	// transaction is refused, and Checker.Consume consumes one.
	Consumer Consumer
	// AllowClientData accepts clientInfo given as a JSON object with the
	// signer's data. When false such clientInfo is refused.
	AllowClientData bool
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Checker turns a request's clientInfo into a [Signer], applying the rules of
// identity validation. It is safe for concurrent use.
type Checker struct {
	provider    Provider
	consumer    Consumer
	allowClient bool
	now         func() time.Time
}

// NewChecker returns a Checker with the given options. It panics when
// opts.Provider is nil, which is a programming error.
func NewChecker(opts CheckerOptions) *Checker {
	if opts.Provider == nil {
		panic("identity: NewChecker without a Provider")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Checker{provider: opts.Provider, consumer: opts.Consumer, allowClient: opts.AllowClientData, now: now}
}

// clientData is the JSON object form of clientInfo.
type clientData struct {
	Name           string `json:"name"`
	Identification string `json:"identification"`
	Email          string `json:"email"`
	Reason         string `json:"reason"`
	Location       string `json:"location"`
}

// Check returns the signer that clientInfo names for account. clientInfo is
// either a JSON object with the signer's data or a transaction number. Every
// refusal is a [*RuleError], which matches [ErrNotValidated]; a provider
// failure (including the end of ctx) is RuleUnavailable and wraps the cause.
func (c *Checker) Check(ctx context.Context, account, clientInfo string) (*Signer, error) {
	if d, ok := parseClientData(clientInfo); ok {
		return c.checkClientData(d)
	}
	number := strings.TrimSpace(clientInfo)
	if err := ValidateNumber(number); err != nil {
		return nil, &RuleError{Rule: RuleUnknown, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &RuleError{Rule: RuleUnavailable, Err: err}
	}
	t, err := c.provider.Transaction(ctx, account, number)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, &RuleError{Rule: RuleUnknown, Err: err}
	case err != nil:
		return nil, &RuleError{Rule: RuleUnavailable, Err: err}
	case t == nil:
		return nil, &RuleError{Rule: RuleUnavailable, Err: errors.New("provider returned no transaction")}
	}
	if err := c.apply(account, t); err != nil {
		return nil, err
	}
	return &Signer{
		Name:        t.Name,
		IDType:      t.IDType,
		IDNumber:    t.IDNumber,
		Email:       t.Email,
		Source:      SourceTransaction,
		Transaction: t.Number,
	}, nil
}

// apply checks t against the rules, in the order of the Rule constants.
func (c *Checker) apply(account string, t *Transaction) error {
	now := c.now()
	switch {
	case t.Account != account:
		return &RuleError{Rule: RuleOtherAccount}
	case t.RevokedAt != nil:
		return &RuleError{Rule: RuleRevoked}
	case t.Status == StatusRejected:
		return &RuleError{Rule: RuleRejected}
	case t.Status == StatusPending:
		return &RuleError{Rule: RulePending}
	case t.Status != StatusApproved:
		return &RuleError{Rule: RuleRejected, Err: fmt.Errorf("status %q", t.Status)}
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return &RuleError{Rule: RuleExpired}
	case c.consumer != nil && t.ConsumedAt != nil:
		return &RuleError{Rule: RuleConsumed, Err: ErrConsumed}
	case strings.TrimSpace(t.Name) == "" || strings.TrimSpace(t.IDNumber) == "":
		// A provider that approves without naming the person cannot sign.
		return &RuleError{Rule: RuleRejected, Err: errors.New("transaction without name or identification")}
	}
	return nil
}

// parseClientData reports whether clientInfo is a JSON object, and decodes
// it. Unknown members are ignored; members of the wrong type make it not
// client data, so that it is treated (and refused) as a transaction number.
func parseClientData(clientInfo string) (clientData, bool) {
	s := bytes.TrimSpace([]byte(clientInfo))
	if len(s) == 0 || s[0] != '{' {
		return clientData{}, false
	}
	var d clientData
	if err := json.Unmarshal(s, &d); err != nil {
		return clientData{}, false
	}
	return d, true
}

func (c *Checker) checkClientData(d clientData) (*Signer, error) {
	if !c.allowClient {
		return nil, &RuleError{Rule: RuleClientDataRefused}
	}
	idType, idNumber := ParseIdentification(d.Identification)
	name := strings.TrimSpace(d.Name)
	if name == "" || idNumber == "" {
		return nil, &RuleError{Rule: RuleClientDataInvalid, Err: errors.New("name and identification are required")}
	}
	return &Signer{
		Name:     name,
		IDType:   idType,
		IDNumber: idNumber,
		Email:    strings.TrimSpace(d.Email),
		Source:   SourceClient,
		Reason:   strings.TrimSpace(d.Reason),
		Location: strings.TrimSpace(d.Location),
	}, nil
}

// SingleUse reports whether the checker consumes transactions.
func (c *Checker) SingleUse() bool { return c.consumer != nil }

// Consume consumes the transaction behind s after a successful request, when
// single-use is configured; otherwise, or when s did not come from a
// transaction, it does nothing. When several requests race with the same
// transaction exactly one gets nil; the others get a [*RuleError] with
// RuleConsumed and must discard what they signed.
func (c *Checker) Consume(ctx context.Context, account string, s *Signer) error {
	if c.consumer == nil || s == nil || s.Source != SourceTransaction {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return &RuleError{Rule: RuleUnavailable, Err: err}
	}
	err := c.consumer.Consume(ctx, account, s.Transaction)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrConsumed):
		return &RuleError{Rule: RuleConsumed, Err: err}
	case errors.Is(err, ErrNotFound):
		return &RuleError{Rule: RuleUnknown, Err: err}
	default:
		return &RuleError{Rule: RuleUnavailable, Err: err}
	}
}
