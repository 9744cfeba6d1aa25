-- Security: the append-only audit log, login attempts (lock-out across processes), review flags for
-- questions that could not be screened, and what WeChat gave us about a resident.

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_role   text,
    actor_id     bigint,
    action       text NOT NULL CHECK (length(action) BETWEEN 1 AND 200),
    target_type  text,
    target_id    bigint,
    success      boolean NOT NULL DEFAULT true,
    client_addr  text,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_role, actor_id, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- One row per password login attempt; lock-outs are computed from here, so every process agrees.
CREATE TABLE login_attempts (
    id           bigserial PRIMARY KEY,
    username     text NOT NULL,
    client_addr  text NOT NULL,
    success      boolean NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_username_idx ON login_attempts (username, at DESC);
CREATE INDEX login_attempts_addr_idx ON login_attempts (client_addr, at DESC);

-- Shared fixed-window counters for anything else that must be limited across processes.
CREATE TABLE rate_counters (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
);

-- A question WeChat's content check could not screen (WeChat down) is routed anyway but flagged.
ALTER TABLE questions ADD COLUMN review_flag text;
ALTER TABLE questions ADD COLUMN anonymised_at timestamptz;
ALTER TABLE messages ADD COLUMN review_flag text;
CREATE INDEX questions_review_idx ON questions (id) WHERE review_flag IS NOT NULL;
CREATE INDEX questions_purge_idx ON questions (created_at) WHERE anonymised_at IS NULL;

ALTER TABLE residents ADD COLUMN last_login_at timestamptz;
ALTER TABLE accounts ADD COLUMN deactivated_at timestamptz;
