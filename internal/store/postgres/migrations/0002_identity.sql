-- Identity-validation transactions of the embedded provider (package identity).
-- Instants are Unix nanoseconds; NULL expires_at means no expiry, NULL
-- revoked_at and consumed_at mean not revoked and not consumed.

CREATE TABLE identity_transactions (
	number      TEXT   PRIMARY KEY,
	account     TEXT   NOT NULL,
	name        TEXT   NOT NULL,
	id_type     TEXT   NOT NULL DEFAULT '',
	id_number   TEXT   NOT NULL,
	email       TEXT   NOT NULL DEFAULT '',
	status      TEXT   NOT NULL CHECK (status IN ('approved', 'rejected', 'pending')),
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT,
	revoked_at  BIGINT,
	consumed_at BIGINT
);

CREATE INDEX identity_transactions_account ON identity_transactions (account, created_at);
