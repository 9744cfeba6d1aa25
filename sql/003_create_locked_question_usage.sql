-- A resident's question usage read under their submission lock, as one call: the advisory lock first,
-- then the count in a query of its own. A VOLATILE function takes a fresh snapshot for each query it
-- runs, so the count sees every submission committed before the lock was granted, even when the call
-- sits inside a larger statement (the one INSERT that writes a question, which then holds the lock
-- until it commits). A NULL resident takes no lock and counts nothing.
CREATE FUNCTION fzz_locked_question_usage(p_resident_id bigint)
RETURNS TABLE (used_last_hour bigint, used_last_day bigint, used_open bigint,
               used_oldest_in_hour timestamptz, used_oldest_in_day timestamptz, used_now timestamptz)
LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('fazhizhen.resident_questions', p_resident_id));
    RETURN QUERY
    SELECT count(*) FILTER (WHERE q.created_at > now() - interval '1 hour'),
           count(*) FILTER (WHERE q.created_at > now() - interval '1 day'),
           count(*) FILTER (WHERE q.status IN ('pending', 'escalated', 'claimed')),
           min(q.created_at) FILTER (WHERE q.created_at > now() - interval '1 hour'),
           min(q.created_at) FILTER (WHERE q.created_at > now() - interval '1 day'),
           now()
    FROM questions q
    WHERE q.resident_id = p_resident_id
      AND (q.created_at > now() - interval '1 day' OR q.status IN ('pending', 'escalated', 'claimed'));
END $$;
