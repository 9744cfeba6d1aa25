-- The bureau's figures: per-question facts the raw tables lacked, and daily/monthly rollups kept
-- by a touch log that a single-flight job (and every metrics call) folds in.
--
-- Why a touch log and not upserts from a trigger: an upsert of a district-day row from every
-- submission would serialise all submissions of a district on one row lock until commit. Appending
-- (community_id, created_at) to an unindexed log contends on nothing; the job recomputes each touched
-- community-day from the raw rows, then its street, district and city days, then their months.

-- 1. Facts on questions and messages -----------------------------------------------------------

ALTER TABLE questions
    ADD COLUMN routed_lawyer_id bigint REFERENCES lawyers (id),   -- the community lawyer it was routed to
    ADD COLUMN claimed_lawyer_id bigint REFERENCES lawyers (id),  -- the pool lawyer who claimed it
    ADD COLUMN first_substantive_at timestamptz,                   -- first lawyer answer not a mere acknowledgement
    ADD COLUMN first_reply_kind text CHECK (first_reply_kind IN ('answer', 'clarification', 'acknowledgement'));

-- flagged at insert: a lawyer "answer" that is only a short or template acknowledgement ("收到，请稍等")
ALTER TABLE messages ADD COLUMN acknowledgement boolean NOT NULL DEFAULT false;

-- An acknowledgement: after removing spaces and punctuation, at most 4 characters, or nothing but
-- greeting/receipt/wait phrases. Real answers are longer and say something of substance.
CREATE FUNCTION fzz_is_acknowledgement(content text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN content IS NULL THEN false
        ELSE length(regexp_replace(content, '[[:space:][:punct:]，。！？、：；…～“”‘’（）【】《》·~]', '', 'g')) <= 4
          OR regexp_replace(content, '[[:space:][:punct:]，。！？、：；…～“”‘’（）【】《》·~]', '', 'g') ~
             '^(您好|你好|在的|在|收到|已收到|好的|好|嗯|ok|OK|看到了|已看到|了解|明白|已阅|请稍等|稍等|稍后|马上|立即|尽快|我|会|给您|为您|回复|答复|解答|处理|正在|一下|看一下|您的问题|问题|了|的|谢谢|感谢|咨询)+$'
    END
$$;

CREATE FUNCTION messages_flag_acknowledgement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.acknowledgement := NEW.author_role = 'lawyer' AND NEW.kind = 'answer'
                           AND fzz_is_acknowledgement(NEW.content);
    RETURN NEW;
END $$;
CREATE TRIGGER messages_flag_acknowledgement BEFORE INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_flag_acknowledgement();

-- the first lawyer reply's kind, and the first substantive answer, recorded on the question
CREATE FUNCTION messages_record_first_reply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    substantive boolean := NEW.kind = 'answer' AND NOT NEW.acknowledgement;
BEGIN
    UPDATE questions
    SET first_reply_kind = coalesce(first_reply_kind,
            CASE WHEN NEW.kind = 'clarification' THEN 'clarification'
                 WHEN NEW.acknowledgement THEN 'acknowledgement' ELSE 'answer' END),
        first_substantive_at = CASE WHEN first_substantive_at IS NULL AND substantive
                                    THEN NEW.created_at ELSE first_substantive_at END
    WHERE id = NEW.question_id
      AND (first_reply_kind IS NULL OR (first_substantive_at IS NULL AND substantive));
    RETURN NULL;
END $$;
CREATE TRIGGER messages_record_first_reply AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.author_role = 'lawyer') EXECUTE FUNCTION messages_record_first_reply();

-- who the question was routed to and who claimed it: assigned_lawyer_id is cleared on escalation
CREATE FUNCTION questions_record_lawyers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.routed_lawyer_id IS NULL AND NEW.status = 'pending' THEN
        NEW.routed_lawyer_id := NEW.assigned_lawyer_id;
    END IF;
    IF NEW.claimed_lawyer_id IS NULL AND NEW.claimed_at IS NOT NULL THEN
        NEW.claimed_lawyer_id := NEW.assigned_lawyer_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER questions_record_lawyers BEFORE INSERT OR UPDATE ON questions
    FOR EACH ROW EXECUTE FUNCTION questions_record_lawyers();

-- rows written already answered (imports, the demo) name their routed lawyer only in the event log
CREATE FUNCTION question_events_record_routing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE questions SET routed_lawyer_id = (NEW.data ->> 'lawyer_id')::bigint
    WHERE id = NEW.question_id AND routed_lawyer_id IS NULL AND NEW.data ? 'lawyer_id';
    RETURN NULL;
END $$;
CREATE TRIGGER question_events_record_routing AFTER INSERT ON question_events
    FOR EACH ROW WHEN (NEW.kind = 'routed') EXECUTE FUNCTION question_events_record_routing();

-- backfill what existed before this migration
UPDATE messages SET acknowledgement = true
WHERE author_role = 'lawyer' AND kind = 'answer' AND fzz_is_acknowledgement(content);
UPDATE questions q SET routed_lawyer_id = (e.data ->> 'lawyer_id')::bigint
FROM question_events e
WHERE e.question_id = q.id AND e.kind = 'routed' AND q.routed_lawyer_id IS NULL AND e.data ? 'lawyer_id';
UPDATE questions SET claimed_lawyer_id = assigned_lawyer_id
WHERE claimed_at IS NOT NULL AND claimed_lawyer_id IS NULL;
UPDATE questions q SET first_reply_kind = f.kind, first_substantive_at = f.substantive_at
FROM (
    SELECT m.question_id,
           (array_agg(CASE WHEN m.kind = 'clarification' THEN 'clarification'
                           WHEN m.acknowledgement THEN 'acknowledgement' ELSE 'answer' END ORDER BY m.id))[1] AS kind,
           min(m.created_at) FILTER (WHERE m.kind = 'answer' AND NOT m.acknowledgement) AS substantive_at
    FROM messages m WHERE m.author_role = 'lawyer' GROUP BY m.question_id
) f
WHERE f.question_id = q.id;

-- 2. Histograms --------------------------------------------------------------------------------

-- Lower bounds (seconds) of the first-response histogram's buckets; the last one is open-ended.
-- Fine where the promises are (5 s to a minute, 30 s to 15 minutes, 1 minute to 30 minutes).
CREATE FUNCTION fzz_response_bounds() RETURNS float8[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(b ORDER BY b) FROM (
        SELECT generate_series(0, 55, 5)::float8 UNION ALL SELECT generate_series(60, 870, 30)
        UNION ALL SELECT generate_series(900, 1740, 60) UNION ALL SELECT generate_series(1800, 3300, 300)
        UNION ALL SELECT generate_series(3600, 12600, 1800) UNION ALL SELECT generate_series(14400, 79200, 10800)
        UNION ALL SELECT 86400) s(b)
$$;

-- Lower bounds (seconds) of the escalation-lateness histogram: tenths of a second around the sweep interval.
CREATE FUNCTION fzz_lateness_bounds() RETURNS float8[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                 1, 1.1, 1.2, 1.35, 1.5, 1.75, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60, 120, 300, 600,
                 1800, 3600]::float8[]
$$;

-- counts per bucket of `vals` (nulls ignored, negatives in the first bucket)
CREATE FUNCTION fzz_histogram(vals float8[], bounds float8[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(x.n, 0) ORDER BY i)
    FROM generate_series(1, cardinality(bounds)) i
    LEFT JOIN (SELECT width_bucket(greatest(v, 0), bounds) AS b, count(*)::int AS n
               FROM unnest(vals) v WHERE v IS NOT NULL GROUP BY 1) x ON x.b = i
$$;

CREATE FUNCTION fzz_histogram_add(a int[], b int[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
                ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0) FROM unnest(a, b) u(x, y)) END
$$;
CREATE AGGREGATE fzz_histogram_sum(int[]) (SFUNC = fzz_histogram_add, STYPE = int[], COMBINEFUNC = fzz_histogram_add,
                                          PARALLEL = SAFE);

-- 3. Places as a tree: community (3) -> street (2) -> district (1) -> city (0, id 0) ----------------

CREATE VIEW metrics_places AS
    SELECT 3::smallint AS scope, c.id, 2::smallint AS parent_scope, c.street_id AS parent_id FROM communities c
    UNION ALL SELECT 2::smallint, s.id, 1::smallint, s.district_id FROM streets s
    UNION ALL SELECT 1::smallint, d.id, 0::smallint, 0::bigint FROM districts d;

-- the communities under places of one scope (null for the whole city: no filter)
CREATE FUNCTION metrics_scope_communities(p_scope smallint, p_ids bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_scope = 0 THEN NULL ELSE coalesce(ARRAY(
        SELECT c.id FROM communities c JOIN streets s ON s.id = c.street_id
        WHERE CASE p_scope WHEN 1 THEN s.district_id = ANY (p_ids)
                           WHEN 2 THEN c.street_id = ANY (p_ids)
                           ELSE c.id = ANY (p_ids) END), '{}') END
$$;

-- 4. Rollups -------------------------------------------------------------------------------------

-- One row per place (scope, scope_id) x period ('d' day, 'm' month starting period_start) x category.
-- A question counts on the day it was asked (Asia/Shanghai), whatever happens to it later.
CREATE TABLE metrics_rollup (
    scope            smallint NOT NULL CHECK (scope BETWEEN 0 AND 3),
    scope_id         bigint NOT NULL,
    period           char(1) NOT NULL CHECK (period IN ('d', 'm')),
    period_start     date NOT NULL,
    category         text NOT NULL,
    questions        int NOT NULL,
    answered         int NOT NULL,
    within_window    int NOT NULL,    -- first reply within FAZHIZHEN_ESCALATE_AFTER_SECONDS of asking
    escalated        int NOT NULL,
    alerted          int NOT NULL,
    adopted          int NOT NULL,
    rated            int NOT NULL,
    rating_sum       int NOT NULL,
    satisfied        int NOT NULL,    -- rated 4-5 or adopted
    satisfaction_base int NOT NULL,   -- rated or adopted
    level_a          int NOT NULL,
    level_b          int NOT NULL,
    level_c          int NOT NULL,
    level_d          int NOT NULL,
    substantive      int NOT NULL,    -- with a first substantive answer
    first_acknowledgement int NOT NULL,
    first_clarification   int NOT NULL,
    late             int NOT NULL,    -- escalated by the sweep (window passed): lateness known
    -- sums in whole milliseconds: integer sums are exact in any order, so rollups equal raw answers
    response_ms      bigint NOT NULL,
    response_max     float8,
    substantive_ms   bigint NOT NULL,
    lateness_ms      bigint NOT NULL,
    lateness_max     float8,
    response_hist    int[] NOT NULL,
    lateness_hist    int[] NOT NULL,
    PRIMARY KEY (scope, scope_id, period, period_start, category)
);

-- Lawyer scorecards: one row per place x period x lawyer (assigned = routed to or claimed by them).
CREATE TABLE metrics_lawyer_rollup (
    scope            smallint NOT NULL CHECK (scope BETWEEN 0 AND 3),
    scope_id         bigint NOT NULL,
    period           char(1) NOT NULL CHECK (period IN ('d', 'm')),
    period_start     date NOT NULL,
    lawyer_id        bigint NOT NULL,
    assigned         int NOT NULL,
    answered         int NOT NULL,
    in_window        int NOT NULL,    -- answered by them within the window that applied to them
    satisfied        int NOT NULL,
    satisfaction_base int NOT NULL,
    response_ms      bigint NOT NULL,
    PRIMARY KEY (scope, scope_id, period, period_start, lawyer_id)
);

-- The touch log: one row per question whose figures may have changed. No index, no constraint:
-- appends never wait on one another. The job deletes what it reads and recomputes.
CREATE TABLE metrics_touched (
    id            bigserial,
    community_id  bigint NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE FUNCTION questions_touch_metrics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO metrics_touched (community_id, created_at)
        SELECT DISTINCT community_id, created_at FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO metrics_touched (community_id, created_at)
        SELECT DISTINCT community_id, created_at FROM old_rows;
    ELSE
        INSERT INTO metrics_touched (community_id, created_at)
        SELECT DISTINCT x.community_id, x.created_at
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        CROSS JOIN LATERAL (VALUES (n.community_id, n.created_at), (o.community_id, o.created_at))
            x(community_id, created_at)
        WHERE (n.community_id, n.created_at, n.category, n.status, n.escalate_at, n.escalated_at,
               n.escalation_reason, n.alert_at, n.alerted_at, n.first_answered_at, n.first_answered_by,
               n.resolved_level, n.adopted_answer_id, n.rating, n.routed_lawyer_id, n.claimed_lawyer_id,
               n.first_substantive_at, n.first_reply_kind)
              IS DISTINCT FROM
              (o.community_id, o.created_at, o.category, o.status, o.escalate_at, o.escalated_at,
               o.escalation_reason, o.alert_at, o.alerted_at, o.first_answered_at, o.first_answered_by,
               o.resolved_level, o.adopted_answer_id, o.rating, o.routed_lawyer_id, o.claimed_lawyer_id,
               o.first_substantive_at, o.first_reply_kind);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER questions_touch_metrics_insert AFTER INSERT ON questions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION questions_touch_metrics();
CREATE TRIGGER questions_touch_metrics_update AFTER UPDATE ON questions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION questions_touch_metrics();
CREATE TRIGGER questions_touch_metrics_delete AFTER DELETE ON questions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION questions_touch_metrics();

INSERT INTO metrics_touched (community_id, created_at) SELECT community_id, created_at FROM questions;

-- 5. The raw figures, shaped like community-day rollup rows ------------------------------------
-- Every definition lives here once: the rollups are built from these functions, and the
-- metrics API's exact (raw) mode and the tests that check the rollups read them directly.

CREATE FUNCTION metrics_raw_rollup(p_from timestamptz, p_to timestamptz, p_communities bigint[],
                                   p_tz text, p_window float8)
RETURNS SETOF metrics_rollup LANGUAGE sql STABLE AS $$
    SELECT 3::smallint, f.community_id, 'd'::char(1), f.day, f.category,
           count(*)::int,
           count(f.response_s)::int,
           count(*) FILTER (WHERE f.response_s <= p_window)::int,
           count(f.escalated_at)::int,
           count(f.alerted_at)::int,
           count(f.adopted_answer_id)::int,
           count(f.rating)::int,
           coalesce(sum(f.rating), 0)::int,
           count(*) FILTER (WHERE f.rating >= 4 OR f.adopted_answer_id IS NOT NULL)::int,
           count(*) FILTER (WHERE f.rating IS NOT NULL OR f.adopted_answer_id IS NOT NULL)::int,
           count(*) FILTER (WHERE f.resolved_level = 'A')::int,
           count(*) FILTER (WHERE f.resolved_level = 'B')::int,
           count(*) FILTER (WHERE f.resolved_level = 'C')::int,
           count(*) FILTER (WHERE f.resolved_level = 'D')::int,
           count(f.substantive_s)::int,
           count(*) FILTER (WHERE f.first_reply_kind = 'acknowledgement')::int,
           count(*) FILTER (WHERE f.first_reply_kind = 'clarification')::int,
           count(f.lateness_s)::int,
           coalesce(sum(round(f.response_s * 1000)), 0)::bigint,
           max(f.response_s),
           coalesce(sum(round(f.substantive_s * 1000)), 0)::bigint,
           coalesce(sum(round(f.lateness_s * 1000)), 0)::bigint,
           max(f.lateness_s),
           fzz_histogram(array_agg(f.response_s), fzz_response_bounds()),
           fzz_histogram(array_agg(f.lateness_s), fzz_lateness_bounds())
    FROM (
        SELECT q.community_id, q.category, q.escalated_at, q.alerted_at, q.adopted_answer_id, q.rating,
               q.resolved_level, q.first_reply_kind,
               (q.created_at AT TIME ZONE p_tz)::date AS day,
               extract(epoch FROM q.first_answered_at - q.created_at)::float8 AS response_s,
               extract(epoch FROM q.first_substantive_at - q.created_at)::float8 AS substantive_s,
               CASE WHEN q.escalation_reason = 'window_passed'
                    THEN extract(epoch FROM q.escalated_at - q.escalate_at)::float8 END AS lateness_s
        FROM questions q
        WHERE q.created_at >= p_from AND q.created_at < p_to
          AND (p_communities IS NULL OR q.community_id = ANY (p_communities))
    ) f
    GROUP BY f.community_id, f.day, f.category
$$;

CREATE FUNCTION metrics_raw_lawyer_rollup(p_from timestamptz, p_to timestamptz, p_communities bigint[],
                                          p_tz text, p_category text)
RETURNS SETOF metrics_lawyer_rollup LANGUAGE sql STABLE AS $$
    SELECT 3::smallint, q.community_id, 'd'::char(1), (q.created_at AT TIME ZONE p_tz)::date, l.lawyer_id,
           count(*)::int,
           count(*) FILTER (WHERE q.first_answered_by = l.lawyer_id)::int,
           count(*) FILTER (WHERE q.first_answered_by = l.lawyer_id AND (
               (l.lawyer_id = q.routed_lawyer_id AND q.first_answered_at <= q.escalate_at)
               OR (l.lawyer_id = q.claimed_lawyer_id AND q.first_answered_at <= q.alert_at)))::int,
           count(*) FILTER (WHERE q.first_answered_by = l.lawyer_id
                              AND (q.rating >= 4 OR q.adopted_answer_id IS NOT NULL))::int,
           count(*) FILTER (WHERE q.first_answered_by = l.lawyer_id
                              AND (q.rating IS NOT NULL OR q.adopted_answer_id IS NOT NULL))::int,
           coalesce(sum(round(extract(epoch FROM q.first_answered_at - q.created_at) * 1000))
                    FILTER (WHERE q.first_answered_by = l.lawyer_id), 0)::bigint
    FROM questions q
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(ARRAY[q.routed_lawyer_id, q.claimed_lawyer_id,
                                                             q.first_answered_by]) x
                        WHERE x IS NOT NULL) l(lawyer_id)
    WHERE q.created_at >= p_from AND q.created_at < p_to
      AND (p_communities IS NULL OR q.community_id = ANY (p_communities))
      AND (p_category IS NULL OR q.category = p_category)
    GROUP BY q.community_id, 4, l.lawyer_id
$$;

-- 6. Recomputing ---------------------------------------------------------------------------------

-- Replace the target rows (t_*) by the sums of source day rows (s_scope, s_id, days in [s_lo, s_hi)).
CREATE FUNCTION metrics_merge(t_scope smallint[], t_id bigint[], t_period char[], t_start date[],
                              s_scope smallint[], s_id bigint[], s_lo date[], s_hi date[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM metrics_rollup r
    USING (SELECT DISTINCT * FROM unnest(t_scope, t_id, t_period, t_start)) t(scope, id, period, start)
    WHERE r.scope = t.scope AND r.scope_id = t.id AND r.period = t.period AND r.period_start = t.start;
    DELETE FROM metrics_lawyer_rollup r
    USING (SELECT DISTINCT * FROM unnest(t_scope, t_id, t_period, t_start)) t(scope, id, period, start)
    WHERE r.scope = t.scope AND r.scope_id = t.id AND r.period = t.period AND r.period_start = t.start;

    INSERT INTO metrics_rollup
    SELECT m.t_scope, m.t_id, m.t_period, m.t_start, r.category,
           sum(r.questions), sum(r.answered), sum(r.within_window), sum(r.escalated), sum(r.alerted),
           sum(r.adopted), sum(r.rated), sum(r.rating_sum), sum(r.satisfied), sum(r.satisfaction_base),
           sum(r.level_a), sum(r.level_b), sum(r.level_c), sum(r.level_d), sum(r.substantive),
           sum(r.first_acknowledgement), sum(r.first_clarification), sum(r.late),
           sum(r.response_ms), max(r.response_max), sum(r.substantive_ms), sum(r.lateness_ms),
           max(r.lateness_max), fzz_histogram_sum(r.response_hist), fzz_histogram_sum(r.lateness_hist)
    FROM unnest(t_scope, t_id, t_period, t_start, s_scope, s_id, s_lo, s_hi)
         m(t_scope, t_id, t_period, t_start, s_scope, s_id, s_lo, s_hi)
    JOIN metrics_rollup r ON r.scope = m.s_scope AND r.scope_id = m.s_id AND r.period = 'd'
                         AND r.period_start >= m.s_lo AND r.period_start < m.s_hi
    GROUP BY 1, 2, 3, 4, 5;

    INSERT INTO metrics_lawyer_rollup
    SELECT m.t_scope, m.t_id, m.t_period, m.t_start, r.lawyer_id,
           sum(r.assigned), sum(r.answered), sum(r.in_window), sum(r.satisfied), sum(r.satisfaction_base),
           sum(r.response_ms)
    FROM unnest(t_scope, t_id, t_period, t_start, s_scope, s_id, s_lo, s_hi)
         m(t_scope, t_id, t_period, t_start, s_scope, s_id, s_lo, s_hi)
    JOIN metrics_lawyer_rollup r ON r.scope = m.s_scope AND r.scope_id = m.s_id AND r.period = 'd'
                                AND r.period_start >= m.s_lo AND r.period_start < m.s_hi
    GROUP BY 1, 2, 3, 4, 5;
END $$;

-- Recompute the given community-days from the raw rows, then every street, district and city day
-- above them, then the months of all of those. Idempotent; callers serialise with an advisory lock.
CREATE FUNCTION metrics_recompute(p_communities bigint[], p_days date[], p_tz text, p_window float8)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    k_ids bigint[];
    k_days date[];
    up_ids bigint[];
    up_days date[];
    all_scopes smallint[];
    all_ids bigint[];
    all_days date[];
    n int;
BEGIN
    SELECT array_agg(id), array_agg(day) INTO k_ids, k_days
    FROM (SELECT DISTINCT id, day FROM unnest(p_communities, p_days) u(id, day)) x;
    IF k_ids IS NULL THEN
        RETURN 0;
    END IF;
    n := cardinality(k_ids);

    DELETE FROM metrics_rollup r USING unnest(k_ids, k_days) k(id, day)
    WHERE r.scope = 3 AND r.scope_id = k.id AND r.period = 'd' AND r.period_start = k.day;
    DELETE FROM metrics_lawyer_rollup r USING unnest(k_ids, k_days) k(id, day)
    WHERE r.scope = 3 AND r.scope_id = k.id AND r.period = 'd' AND r.period_start = k.day;
    INSERT INTO metrics_rollup
    SELECT f.* FROM unnest(k_ids, k_days) k(id, day),
         LATERAL metrics_raw_rollup(k.day::timestamp AT TIME ZONE p_tz, (k.day + 1)::timestamp AT TIME ZONE p_tz,
                                    ARRAY[k.id], p_tz, p_window) f;
    INSERT INTO metrics_lawyer_rollup
    SELECT f.* FROM unnest(k_ids, k_days) k(id, day),
         LATERAL metrics_raw_lawyer_rollup(k.day::timestamp AT TIME ZONE p_tz,
                                           (k.day + 1)::timestamp AT TIME ZONE p_tz, ARRAY[k.id], p_tz, NULL) f;

    all_scopes := array_fill(3::smallint, ARRAY[cardinality(k_ids)]);
    all_ids := k_ids;
    all_days := k_days;
    FOR lvl IN REVERSE 3..1 LOOP
        -- the parents' days: each the sum of all its children's rows that day
        SELECT array_agg(parent_id), array_agg(day) INTO up_ids, up_days
        FROM (SELECT DISTINCT p.parent_id, k.day FROM unnest(k_ids, k_days) k(id, day)
              JOIN metrics_places p ON p.scope = lvl AND p.id = k.id) x;
        EXIT WHEN up_ids IS NULL;
        PERFORM metrics_merge(array_agg((lvl - 1)::smallint), array_agg(k.parent_id), array_agg('d'::char),
                              array_agg(k.day), array_agg(lvl::smallint), array_agg(c.id), array_agg(k.day),
                              array_agg(k.day + 1))
        FROM unnest(up_ids, up_days) k(parent_id, day)
        JOIN metrics_places c ON c.scope = lvl AND c.parent_id = k.parent_id;
        k_ids := up_ids;
        k_days := up_days;
        all_scopes := all_scopes || array_fill((lvl - 1)::smallint, ARRAY[cardinality(k_ids)]);
        all_ids := all_ids || k_ids;
        all_days := all_days || k_days;
    END LOOP;

    -- the months of every day touched, at every level
    PERFORM metrics_merge(array_agg(m.scope), array_agg(m.id), array_agg('m'::char), array_agg(m.month),
                          array_agg(m.scope), array_agg(m.id), array_agg(m.month),
                          array_agg((m.month + interval '1 month')::date))
    FROM (SELECT DISTINCT scope, id, date_trunc('month', day)::date AS month
          FROM unnest(all_scopes, all_ids, all_days) u(scope, id, day)) m;
    RETURN n;
END $$;

-- the bureau's list of open escalations (a handful among millions of questions)
CREATE INDEX questions_open_escalated_idx ON questions (escalated_at) WHERE status IN ('escalated', 'claimed');
