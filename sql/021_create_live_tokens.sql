-- The bearer tokens that authenticate right now: neither revoked nor expired, of an active account or
-- of a resident not deleted. One definition for every look-up: the per-request check
-- (get_token_principals) and the intake's submission read, which checks the asker's token in the same
-- round trip as it reads the routing context.
CREATE VIEW live_tokens AS
SELECT t.token_hash, t.role, coalesce(t.account_id, t.resident_id) AS principal_id, t.expires_at
FROM auth_tokens t
LEFT JOIN accounts a ON a.id = t.account_id
LEFT JOIN residents r ON r.id = t.resident_id
WHERE t.revoked_at IS NULL AND t.expires_at > now()
  AND (a.id IS NULL OR a.active) AND (r.id IS NULL OR r.deleted_at IS NULL);
