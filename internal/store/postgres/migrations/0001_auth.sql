-- API clients and token-signing keys (package auth).
-- Instants are Unix nanoseconds (BIGINT), so that they round-trip exactly,
-- as in the embedded store.

CREATE TABLE clients (
	id          TEXT    PRIMARY KEY,
	account     TEXT    NOT NULL,
	name        TEXT    NOT NULL DEFAULT '',
	secret_hash TEXT    NOT NULL,
	disabled    BOOLEAN NOT NULL DEFAULT FALSE,
	created_at  BIGINT  NOT NULL,
	updated_at  BIGINT  NOT NULL
);

CREATE INDEX clients_account ON clients (account);

CREATE TABLE client_projects (
	client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	project   TEXT NOT NULL,
	PRIMARY KEY (client_id, project)
);

-- The private key is sealed (AES-256-GCM) with the master key, which is
-- never stored in the database.
CREATE TABLE token_keys (
	id                 TEXT   PRIMARY KEY,
	algorithm          TEXT   NOT NULL,
	public_key         BYTEA  NOT NULL,
	sealed_private_key BYTEA  NOT NULL,
	created_at         BIGINT NOT NULL
);
