-- Why a document failed (the identity rule, or the error behind the
-- errorReason; never sent to clients), and where the signer's identity came
-- from: an identity-validation transaction or data given by the client.

ALTER TABLE audit_log ADD COLUMN detail TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN signer_source TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN transaction_number TEXT NOT NULL DEFAULT '';
