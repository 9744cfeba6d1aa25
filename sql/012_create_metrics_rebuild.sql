-- A full or ranged rebuild in a few set-based statements instead of one recomputation per
-- community-day: one pass of the raw aggregate over the range, then the same cascade to streets,
-- districts, the city and the months. metrics_recompute keeps its meaning and now shares the cascade.

-- Recompute the street, district and city days above the given community-days (whose rows are
-- already current), then the months of all of them.
CREATE FUNCTION metrics_cascade(p_ids bigint[], p_days date[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    k_ids bigint[] := p_ids;
    k_days date[] := p_days;
    up_ids bigint[];
    up_days date[];
    all_scopes smallint[];
    all_ids bigint[];
    all_days date[];
BEGIN
    IF k_ids IS NULL THEN
        RETURN 0;
    END IF;
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
    RETURN cardinality(p_ids);
END $$;

CREATE OR REPLACE FUNCTION metrics_recompute(p_communities bigint[], p_days date[], p_tz text, p_window float8)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    k_ids bigint[];
    k_days date[];
BEGIN
    SELECT array_agg(id), array_agg(day) INTO k_ids, k_days
    FROM (SELECT DISTINCT id, day FROM unnest(p_communities, p_days) u(id, day)) x;
    IF k_ids IS NULL THEN
        RETURN 0;
    END IF;

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
    RETURN metrics_cascade(k_ids, k_days);
END $$;

-- Every day row in [p_from, p_to] rebuilt from one pass over the raw rows, then the cascade.
CREATE FUNCTION metrics_rebuild(p_from date, p_to date, p_tz text, p_window float8) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    k_ids bigint[];
    k_days date[];
BEGIN
    DELETE FROM metrics_rollup WHERE period = 'd' AND period_start BETWEEN p_from AND p_to;
    DELETE FROM metrics_lawyer_rollup WHERE period = 'd' AND period_start BETWEEN p_from AND p_to;
    INSERT INTO metrics_rollup
    SELECT * FROM metrics_raw_rollup(p_from::timestamp AT TIME ZONE p_tz, (p_to + 1)::timestamp AT TIME ZONE p_tz,
                                     NULL, p_tz, p_window);
    INSERT INTO metrics_lawyer_rollup
    SELECT * FROM metrics_raw_lawyer_rollup(p_from::timestamp AT TIME ZONE p_tz,
                                            (p_to + 1)::timestamp AT TIME ZONE p_tz, NULL, p_tz, NULL);
    SELECT array_agg(scope_id), array_agg(period_start) INTO k_ids, k_days
    FROM (SELECT DISTINCT scope_id, period_start FROM metrics_rollup
          WHERE scope = 3 AND period = 'd' AND period_start BETWEEN p_from AND p_to) x;
    RETURN metrics_cascade(k_ids, k_days);
END $$;
