package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sello/internal/signing"
)

var _ signing.AuditLog = (*DB)(nil)

// Record stores the audit entries in one transaction: all of them or none.
// It returns once the transaction is committed.
func (d *DB) Record(ctx context.Context, entries []signing.AuditEntry) (err error) {
	if len(entries) == 0 {
		return nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: record audit: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (
	document_id, request_id, reference_number, client_id, account, project,
	signer_name, signer_identification, certificate_serial,
	original_sha256, signed_sha256, status, error_reason, created_at,
	detail, signer_source, transaction_number
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: record audit: %w", err)
	}
	defer stmt.Close()
	for _, e := range entries {
		if _, err := stmt.ExecContext(ctx,
			e.DocumentID, e.RequestID, e.ReferenceNumber, e.ClientID, e.Account, e.Project,
			e.SignerName, e.SignerIdentification, e.CertificateSerial,
			e.OriginalSHA256, e.SignedSHA256, string(e.Status), e.ErrorReason, e.Time.UnixNano(),
			e.Detail, e.SignerSource, e.TransactionNumber,
		); err != nil {
			return fmt.Errorf("sqlite: record audit entry %s: %w", e.DocumentID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: record audit: commit: %w", err)
	}
	return nil
}

// ListAudit returns the audit entries that q selects, oldest first. Times
// come back in UTC.
func (d *DB) ListAudit(ctx context.Context, q signing.AuditQuery) ([]signing.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	if !q.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if q.ReferenceNumber != "" {
		where = append(where, "reference_number = ?")
		args = append(args, q.ReferenceNumber)
	}
	query := `SELECT document_id, request_id, reference_number, client_id, account, project,
	signer_name, signer_identification, certificate_serial,
	original_sha256, signed_sha256, status, error_reason, created_at,
	detail, signer_source, transaction_number
FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at, document_id"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	defer rows.Close()
	var out []signing.AuditEntry
	for rows.Next() {
		var (
			e      signing.AuditEntry
			status string
			nanos  int64
		)
		if err := rows.Scan(&e.DocumentID, &e.RequestID, &e.ReferenceNumber, &e.ClientID, &e.Account, &e.Project,
			&e.SignerName, &e.SignerIdentification, &e.CertificateSerial,
			&e.OriginalSHA256, &e.SignedSHA256, &status, &e.ErrorReason, &nanos,
			&e.Detail, &e.SignerSource, &e.TransactionNumber); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", err)
		}
		e.Status = signing.Status(status)
		e.Time = time.Unix(0, nanos).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return out, nil
}
