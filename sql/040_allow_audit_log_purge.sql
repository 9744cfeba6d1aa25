-- Retention for the audit log: it stays append-only for everyone, except the retention purge, which may
-- delete rows older than the cutoff it sets for its own transaction, and never rows younger than 180 days
-- (the Cybersecurity Law, art. 21: network logs are kept at least six months). A client that sets the
-- setting by hand can therefore only remove what the purge would remove anyway. UPDATE and TRUNCATE stay
-- refused without exception.

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff text := current_setting('fazhizhen.audit_purge_before', true);
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(cutoff, '') <> ''
       AND OLD.at < cutoff::timestamptz AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END $$;

-- Delete audit entries older than `keep_days` (at least 180); returns how many.
CREATE FUNCTION audit_log_purge(keep_days integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := now() - make_interval(days => keep_days);
    n bigint;
BEGIN
    IF keep_days IS NULL OR keep_days < 180 THEN
        RAISE EXCEPTION 'audit_log entries are kept at least 180 days (asked: %)', keep_days;
    END IF;
    PERFORM set_config('fazhizhen.audit_purge_before', cutoff::text, true);
    DELETE FROM audit_log WHERE at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('fazhizhen.audit_purge_before', '', true);
    RETURN n;
END $$;
