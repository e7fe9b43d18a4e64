-- Audit log of signed and refused documents (package signing). One row per
-- document; the documents themselves are never stored, only their SHA-256
-- digests (lowercase hex). Instants are Unix nanoseconds.

CREATE TABLE audit_log (
	document_id           TEXT   PRIMARY KEY,
	request_id            TEXT   NOT NULL,
	reference_number      TEXT   NOT NULL,
	client_id             TEXT   NOT NULL,
	account               TEXT   NOT NULL,
	project               TEXT   NOT NULL,
	signer_name           TEXT   NOT NULL,
	signer_identification TEXT   NOT NULL,
	certificate_serial    TEXT   NOT NULL,
	original_sha256       TEXT   NOT NULL,
	signed_sha256         TEXT   NOT NULL,
	status                TEXT   NOT NULL,
	error_reason          TEXT   NOT NULL,
	created_at            BIGINT NOT NULL
);

CREATE INDEX audit_log_created_at ON audit_log (created_at);
CREATE INDEX audit_log_reference_number ON audit_log (reference_number);
