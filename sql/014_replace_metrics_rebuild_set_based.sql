-- A rebuild over a date range in a handful of set-based statements. 012's rebuild went through
-- metrics_cascade, whose unnest(array) joins the planner cannot estimate: nested loops over the
-- rollups, ~17 ms per community-day (a year of the city demo, 66 k community-days: 95 s). Here each
-- level is one INSERT ... SELECT ... GROUP BY over the level below (the city demo's year: a few
-- seconds). Same rows as before: tests/db/test_metrics_rollup.py compares the rebuild with the
-- incremental rollups row for row.

-- The day rows of the parents (scope p_scope - 1) of every place of scope p_scope, days in
-- [p_from, p_to], summed from that scope's day rows (which must be current).
CREATE FUNCTION metrics_rollup_parent_days(p_scope smallint, p_from date, p_to date) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO metrics_rollup
    SELECT (p_scope - 1)::smallint, p.parent_id, 'd', r.period_start, r.category,
           sum(r.questions), sum(r.answered), sum(r.within_window), sum(r.escalated), sum(r.alerted),
           sum(r.adopted), sum(r.rated), sum(r.rating_sum), sum(r.satisfied), sum(r.satisfaction_base),
           sum(r.level_a), sum(r.level_b), sum(r.level_c), sum(r.level_d), sum(r.substantive),
           sum(r.first_acknowledgement), sum(r.first_clarification), sum(r.late),
           sum(r.response_ms), max(r.response_max), sum(r.substantive_ms), sum(r.lateness_ms),
           max(r.lateness_max),
           -- merging is the costly part (PL/pgSQL): rows with nothing in a histogram are skipped, and a
           -- group of such rows keeps their (all-zero) histogram
           coalesce(fzz_histogram_sum(r.response_hist) FILTER (WHERE r.answered > 0), min(r.response_hist)),
           coalesce(fzz_histogram_sum(r.lateness_hist) FILTER (WHERE r.late > 0), min(r.lateness_hist))
    FROM metrics_rollup r
    JOIN metrics_places p ON p.scope = p_scope AND p.id = r.scope_id
    WHERE r.scope = p_scope AND r.period = 'd' AND r.period_start BETWEEN p_from AND p_to
    GROUP BY p.parent_id, r.period_start, r.category;

    INSERT INTO metrics_lawyer_rollup
    SELECT (p_scope - 1)::smallint, p.parent_id, 'd', r.period_start, r.lawyer_id,
           sum(r.assigned), sum(r.answered), sum(r.in_window), sum(r.satisfied), sum(r.satisfaction_base),
           sum(r.response_ms)
    FROM metrics_lawyer_rollup r
    JOIN metrics_places p ON p.scope = p_scope AND p.id = r.scope_id
    WHERE r.scope = p_scope AND r.period = 'd' AND r.period_start BETWEEN p_from AND p_to
    GROUP BY p.parent_id, r.period_start, r.lawyer_id;
$$;

-- Every month row (all scopes) of the calendar months that [p_from, p_to] touches, summed from the
-- day rows of the whole month (days outside the range are current already).
CREATE FUNCTION metrics_rollup_months(p_from date, p_to date) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM metrics_rollup
    WHERE period = 'm' AND period_start BETWEEN date_trunc('month', p_from)::date AND p_to;
    DELETE FROM metrics_lawyer_rollup
    WHERE period = 'm' AND period_start BETWEEN date_trunc('month', p_from)::date AND p_to;

    INSERT INTO metrics_rollup
    SELECT r.scope, r.scope_id, 'm', date_trunc('month', r.period_start)::date, r.category,
           sum(r.questions), sum(r.answered), sum(r.within_window), sum(r.escalated), sum(r.alerted),
           sum(r.adopted), sum(r.rated), sum(r.rating_sum), sum(r.satisfied), sum(r.satisfaction_base),
           sum(r.level_a), sum(r.level_b), sum(r.level_c), sum(r.level_d), sum(r.substantive),
           sum(r.first_acknowledgement), sum(r.first_clarification), sum(r.late),
           sum(r.response_ms), max(r.response_max), sum(r.substantive_ms), sum(r.lateness_ms),
           max(r.lateness_max),
           coalesce(fzz_histogram_sum(r.response_hist) FILTER (WHERE r.answered > 0), min(r.response_hist)),
           coalesce(fzz_histogram_sum(r.lateness_hist) FILTER (WHERE r.late > 0), min(r.lateness_hist))
    FROM metrics_rollup r
    WHERE r.period = 'd' AND r.period_start >= date_trunc('month', p_from)::date
      AND r.period_start < (date_trunc('month', p_to) + interval '1 month')::date
    GROUP BY r.scope, r.scope_id, date_trunc('month', r.period_start), r.category;

    INSERT INTO metrics_lawyer_rollup
    SELECT r.scope, r.scope_id, 'm', date_trunc('month', r.period_start)::date, r.lawyer_id,
           sum(r.assigned), sum(r.answered), sum(r.in_window), sum(r.satisfied), sum(r.satisfaction_base),
           sum(r.response_ms)
    FROM metrics_lawyer_rollup r
    WHERE r.period = 'd' AND r.period_start >= date_trunc('month', p_from)::date
      AND r.period_start < (date_trunc('month', p_to) + interval '1 month')::date
    GROUP BY r.scope, r.scope_id, date_trunc('month', r.period_start), r.lawyer_id;
$$;

-- Each question's lawyers (routed, claimed, first answerer, without repeats) from a three-row VALUES
-- instead of a DISTINCT subquery per question: the same rows, several times faster over millions.
CREATE OR REPLACE FUNCTION metrics_raw_lawyer_rollup(p_from timestamptz, p_to timestamptz, p_communities bigint[],
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
    CROSS JOIN LATERAL (VALUES (q.routed_lawyer_id, 1), (q.claimed_lawyer_id, 2), (q.first_answered_by, 3))
        l(lawyer_id, k)
    WHERE q.created_at >= p_from AND q.created_at < p_to
      AND (p_communities IS NULL OR q.community_id = ANY (p_communities))
      AND (p_category IS NULL OR q.category = p_category)
      AND l.lawyer_id IS NOT NULL
      AND (l.k = 1
           OR (l.k = 2 AND l.lawyer_id IS DISTINCT FROM q.routed_lawyer_id)
           OR (l.k = 3 AND l.lawyer_id IS DISTINCT FROM q.routed_lawyer_id
                       AND l.lawyer_id IS DISTINCT FROM q.claimed_lawyer_id))
    GROUP BY q.community_id, 4, l.lawyer_id
$$;

-- Every day row in [p_from, p_to] from one pass over the raw rows, each level above from the one
-- below, then the months the range touches. Returns the community-days written.
CREATE OR REPLACE FUNCTION metrics_rebuild(p_from date, p_to date, p_tz text, p_window float8) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    DELETE FROM metrics_rollup WHERE period = 'd' AND period_start BETWEEN p_from AND p_to;
    DELETE FROM metrics_lawyer_rollup WHERE period = 'd' AND period_start BETWEEN p_from AND p_to;
    INSERT INTO metrics_rollup
    SELECT * FROM metrics_raw_rollup(p_from::timestamp AT TIME ZONE p_tz, (p_to + 1)::timestamp AT TIME ZONE p_tz,
                                     NULL, p_tz, p_window);
    INSERT INTO metrics_lawyer_rollup
    SELECT * FROM metrics_raw_lawyer_rollup(p_from::timestamp AT TIME ZONE p_tz,
                                            (p_to + 1)::timestamp AT TIME ZONE p_tz, NULL, p_tz, NULL);
    SELECT count(*) INTO n FROM (SELECT DISTINCT scope_id, period_start FROM metrics_rollup
                                 WHERE scope = 3 AND period = 'd' AND period_start BETWEEN p_from AND p_to) x;
    FOR lvl IN REVERSE 3..1 LOOP
        PERFORM metrics_rollup_parent_days(lvl::smallint, p_from, p_to);
    END LOOP;
    PERFORM metrics_rollup_months(p_from, p_to);
    RETURN n;
END $$;
