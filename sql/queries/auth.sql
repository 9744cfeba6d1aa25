-- name: get_account_by_username
SELECT id, role, username, password_hash, active FROM accounts WHERE username = $1;

-- name: upsert_bureau_account
INSERT INTO accounts (role, username, password_hash) VALUES ('bureau', $1, $2)
ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, active = true,
    password_changed_at = now()
WHERE accounts.role = 'bureau'
RETURNING id, role, username;

-- name: update_password_hash
UPDATE accounts SET password_hash = $2 WHERE id = $1;

-- name: upsert_resident_by_openid
INSERT INTO residents (openid) VALUES ($1)
ON CONFLICT (openid) DO UPDATE SET openid = EXCLUDED.openid
RETURNING id, deleted_at;

-- name: insert_token
INSERT INTO auth_tokens (token_hash, role, account_id, resident_id, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
RETURNING expires_at;

-- name: get_token_principals
-- The principals behind a set of token hashes (concurrent requests share this look-up), one index
-- probe per hash (OFFSET 0 keeps the planner from joining the whole view instead).
SELECT v.token_hash, v.role, v.principal_id AS id, v.expires_at
FROM unnest($1::bytea[]) AS h (token_hash)
CROSS JOIN LATERAL (SELECT * FROM live_tokens v WHERE v.token_hash = h.token_hash OFFSET 0) v;

-- name: revoke_token
UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL;
