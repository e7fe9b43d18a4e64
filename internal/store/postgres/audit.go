package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"sello/internal/signing"
)

var _ signing.AuditLog = (*DB)(nil)

const auditColumns = `document_id, request_id, reference_number, client_id, account, project,
	signer_name, signer_identification, certificate_serial,
	original_sha256, signed_sha256, status, error_reason, created_at,
	detail, signer_source, transaction_number`

// Record stores the audit entries in one transaction: all of them or none.
// It returns once the transaction is committed. A document id that is
// already recorded fails the whole batch.
func (d *DB) Record(ctx context.Context, entries []signing.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, e := range entries {
			b.Queue(`INSERT INTO audit_log (`+auditColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
				e.DocumentID, e.RequestID, e.ReferenceNumber, e.ClientID, e.Account, e.Project,
				e.SignerName, e.SignerIdentification, e.CertificateSerial,
				e.OriginalSHA256, e.SignedSHA256, string(e.Status), e.ErrorReason, nanos(e.Time),
				e.Detail, e.SignerSource, e.TransactionNumber)
		}
		// One round trip for the whole batch; Close reports the first
		// failed insert.
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: record audit: %w", err)
	}
	return nil
}

// ListAudit returns the audit entries that q selects, oldest first, ties
// broken by document id. Times come back in UTC.
func (d *DB) ListAudit(ctx context.Context, q signing.AuditQuery) ([]signing.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.Since.IsZero() {
		where = append(where, "created_at >= "+arg(nanos(q.Since)))
	}
	if q.ReferenceNumber != "" {
		where = append(where, "reference_number = "+arg(q.ReferenceNumber))
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at, document_id COLLATE "C"`
	if q.Limit > 0 {
		query += " LIMIT " + arg(q.Limit)
	}
	rows, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (signing.AuditEntry, error) {
		var (
			e      signing.AuditEntry
			status string
			at     int64
		)
		err := row.Scan(&e.DocumentID, &e.RequestID, &e.ReferenceNumber, &e.ClientID, &e.Account, &e.Project,
			&e.SignerName, &e.SignerIdentification, &e.CertificateSerial,
			&e.OriginalSHA256, &e.SignedSHA256, &status, &e.ErrorReason, &at,
			&e.Detail, &e.SignerSource, &e.TransactionNumber)
		e.Status = signing.Status(status)
		e.Time = instant(at)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
