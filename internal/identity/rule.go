package identity

import "fmt"

// Rule names the rule that refused a signer. Its String form is a stable
// snake_case word meant for logs and audit rows.
type Rule int

// The rules [Checker] applies, in the order it applies them.
const (
	RuleUnknown           Rule = iota + 1 // no transaction with that number
	RuleUnavailable                       // the provider could not answer
	RuleOtherAccount                      // the transaction belongs to another account
	RuleRevoked                           // the transaction was revoked
	RuleRejected                          // the validation was rejected
	RulePending                           // the validation is not finished
	RuleExpired                           // the transaction expired
	RuleConsumed                          // single-use, and already used
	RuleClientDataRefused                 // clientInfo is signer data, and that is not allowed
	RuleClientDataInvalid                 // clientInfo is signer data without a name or identification
)

var ruleNames = [...]string{
	RuleUnknown:           "unknown",
	RuleUnavailable:       "unavailable",
	RuleOtherAccount:      "other_account",
	RuleRevoked:           "revoked",
	RuleRejected:          "rejected",
	RulePending:           "pending",
	RuleExpired:           "expired",
	RuleConsumed:          "consumed",
	RuleClientDataRefused: "client_data_refused",
	RuleClientDataInvalid: "client_data_invalid",
}

// String returns the rule's stable name, such as "expired".
func (r Rule) String() string {
	if r > 0 && int(r) < len(ruleNames) {
		return ruleNames[r]
	}
	return fmt.Sprintf("rule(%d)", int(r))
}

// RuleError reports which rule refused a signer. It matches
// [ErrNotValidated] with errors.Is, and unwraps to its cause.
type RuleError struct {
	Rule Rule  // the rule that failed
	Err  error // the cause, if any (a provider error for RuleUnavailable)
}

// Error describes the refusal.
func (e *RuleError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("identity: not validated (%s): %v", e.Rule, e.Err)
	}
	return fmt.Sprintf("identity: not validated (%s)", e.Rule)
}

// Is reports whether target is [ErrNotValidated].
func (e *RuleError) Is(target error) bool { return target == ErrNotValidated }

// Unwrap returns the cause.
func (e *RuleError) Unwrap() error { return e.Err }
