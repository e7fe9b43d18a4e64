-- API clients and token-signing keys (package auth).
-- Instants are Unix nanoseconds; booleans are 0 or 1.

CREATE TABLE clients (
	id          TEXT    PRIMARY KEY,
	account     TEXT    NOT NULL,
	name        TEXT    NOT NULL DEFAULT '',
	secret_hash TEXT    NOT NULL,
	disabled    INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
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
	id                 TEXT    PRIMARY KEY,
	algorithm          TEXT    NOT NULL,
	public_key         BLOB    NOT NULL,
	sealed_private_key BLOB    NOT NULL,
	created_at         INTEGER NOT NULL
);
