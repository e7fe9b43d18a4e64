package signing

import (
	"context"
	"time"
)

// Status is the outcome of one document: [StatusSuccess] or [StatusFail].
// Its values are wire contract (DESIGN.md §1).
type Status string

// The statuses a document can end with.
const (
	StatusSuccess Status = "SUCCESS"
	StatusFail    Status = "FAIL"
)

// AuditEntry is the audit record of one document of a batch. The document's
// bytes are never stored, only their SHA-256 digests.
type AuditEntry struct {
	// DocumentID is the identifier the service gave the document (a
	// UUIDv7), unique across nodes.
	DocumentID string
	// RequestID is the X-Request-Id of the request that carried it.
	RequestID       string
	ReferenceNumber string
	// ClientID, Account and Project say which API client asked, for which
	// account and project.
	ClientID string
	Account  string
	Project  string
	// SignerName and SignerIdentification name the validated person; both
	// are empty when the identity check failed.
	SignerName           string
	SignerIdentification string
	// CertificateSerial is the serial number of the signing certificate in
	// lowercase hexadecimal, empty when none was used.
	CertificateSerial string
	// OriginalSHA256 and SignedSHA256 are the lowercase hexadecimal SHA-256
	// digests of the document received and of the signed document sent
	// back; SignedSHA256 is empty for a document that failed.
	OriginalSHA256 string
	SignedSHA256   string
	Status         Status
	// ErrorReason is the errorReason sent to the client, empty on success.
	ErrorReason string
	// Detail says, for a document that failed, exactly why: the identity
	// rule that refused the signer, or the error behind ErrorReason. It is
	// never sent to the client.
	Detail string
	// SignerSource is "transaction" when the signer was found through an
	// identity-validation transaction (TransactionNumber), "client" when
	// the API client gave the signer's data itself.
	SignerSource      string
	TransactionNumber string
	// Time is when the document's outcome was decided.
	Time time.Time
}

// AuditLog stores audit entries. Record stores all entries or none, and
// returns only after they are durable; it must be safe for concurrent use.
type AuditLog interface {
	Record(ctx context.Context, entries []AuditEntry) error
}

// AuditQuery selects audit entries. Zero fields do not filter.
type AuditQuery struct {
	// Since keeps entries whose Time is at or after it.
	Since time.Time
	// ReferenceNumber keeps entries with exactly this reference number.
	ReferenceNumber string
	// Limit caps the number of entries returned; zero means no cap.
	Limit int
}
