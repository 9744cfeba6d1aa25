-- The core model: places, people, rosters, pools, questions and their event log.
-- Every time is timestamptz and set by the database clock (now()), the one clock all processes share.

CREATE TABLE districts (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE streets (
    id           bigserial PRIMARY KEY,
    district_id  bigint NOT NULL REFERENCES districts (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district_id, name)
);
CREATE INDEX streets_district_idx ON streets (district_id);

CREATE TABLE communities (
    id          bigserial PRIMARY KEY,
    street_id   bigint NOT NULL REFERENCES streets (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (street_id, name)
);
CREATE INDEX communities_street_idx ON communities (street_id);

-- Staff accounts (lawyer, worker, bureau). A lawyer's or worker's id is its account id.
CREATE TABLE accounts (
    id                   bigserial PRIMARY KEY,
    role                 text NOT NULL CHECK (role IN ('lawyer', 'worker', 'bureau')),
    username             text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
    password_hash        text NOT NULL,
    active               boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    password_changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lawyers (
    id           bigint PRIMARY KEY REFERENCES accounts (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    firm         text,
    license_no   text,
    phone        text,
    specialties  text[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE residents (
    id          bigserial PRIMARY KEY,
    openid      text UNIQUE,
    unionid     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- Opaque bearer tokens, stored as SHA-256 of the token: a stolen table reveals no usable token.
CREATE TABLE auth_tokens (
    token_hash   bytea PRIMARY KEY,
    role         text NOT NULL CHECK (role IN ('resident', 'lawyer', 'worker', 'bureau')),
    account_id   bigint REFERENCES accounts (id),
    resident_id  bigint REFERENCES residents (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    CHECK ((role = 'resident') = (resident_id IS NOT NULL)),
    CHECK ((role <> 'resident') = (account_id IS NOT NULL))
);
CREATE INDEX auth_tokens_account_idx ON auth_tokens (account_id) WHERE revoked_at IS NULL;
CREATE INDEX auth_tokens_resident_idx ON auth_tokens (resident_id) WHERE revoked_at IS NULL;

-- Who is on duty for a community: weekday 0-6 (Mon=0) and a local-time window, or always (all null).
-- A window whose end is not after its start runs past midnight into the next day.
CREATE TABLE duty_slots (
    id            bigserial PRIMARY KEY,
    community_id  bigint NOT NULL REFERENCES communities (id),
    lawyer_id     bigint NOT NULL REFERENCES lawyers (id),
    weekday       smallint CHECK (weekday BETWEEN 0 AND 6),
    start_time    time,
    end_time      time,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((start_time IS NULL) = (end_time IS NULL))
);
CREATE INDEX duty_slots_community_idx ON duty_slots (community_id);
CREATE INDEX duty_slots_lawyer_idx ON duty_slots (lawyer_id);

-- A pool with a district serves that district's escalations; one without serves the rest of the city.
CREATE TABLE pools (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    district_id  bigint REFERENCES districts (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pools_district_idx ON pools (district_id);

CREATE TABLE pool_members (
    pool_id     bigint NOT NULL REFERENCES pools (id),
    lawyer_id   bigint NOT NULL REFERENCES lawyers (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pool_id, lawyer_id)
);
CREATE INDEX pool_members_lawyer_idx ON pool_members (lawyer_id);

CREATE TABLE questions (
    id                   bigserial PRIMARY KEY,
    community_id         bigint NOT NULL REFERENCES communities (id),
    resident_id          bigint REFERENCES residents (id),
    category             text NOT NULL,
    category_source      text NOT NULL DEFAULT 'resident' CHECK (category_source IN ('resident', 'classifier')),
    content              text,
    status               text NOT NULL
                         CHECK (status IN ('pending', 'escalated', 'claimed', 'answered', 'closed')),
    assigned_lawyer_id   bigint REFERENCES lawyers (id),
    pool_id              bigint REFERENCES pools (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    -- level 1 deadline: the community lawyer's window
    escalate_at          timestamptz,
    escalated_at         timestamptz,
    escalation_reason    text,
    -- level 2 deadline: the pool's window, counted from escalation
    alert_at             timestamptz,
    alerted_at           timestamptz,
    claimed_at           timestamptz,
    first_answered_at    timestamptz,
    first_answered_by    bigint REFERENCES lawyers (id),
    resolved_level       char(1) CHECK (resolved_level IN ('A', 'B', 'C', 'D')),
    adopted_answer_id    bigint,
    closed_at            timestamptz,
    rating               smallint CHECK (rating BETWEEN 1 AND 5),
    rating_comment       text,
    rated_at             timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
-- the sweep: due pending questions, and unanswered escalated ones past the pool window
CREATE INDEX questions_escalate_due_idx ON questions (escalate_at) WHERE status = 'pending';
CREATE INDEX questions_alert_due_idx ON questions (alert_at)
    WHERE alerted_at IS NULL AND status IN ('escalated', 'claimed');
-- queues
CREATE INDEX questions_assigned_open_idx ON questions (assigned_lawyer_id, escalate_at)
    WHERE status IN ('pending', 'claimed');
CREATE INDEX questions_pool_open_idx ON questions (pool_id, escalated_at) WHERE status = 'escalated';
CREATE INDEX questions_resident_idx ON questions (resident_id, created_at DESC);
CREATE INDEX questions_community_created_idx ON questions (community_id, created_at);
CREATE INDEX questions_created_idx ON questions (created_at);

CREATE TABLE messages (
    id           bigserial PRIMARY KEY,
    question_id  bigint NOT NULL REFERENCES questions (id),
    author_role  text NOT NULL CHECK (author_role IN ('resident', 'lawyer', 'worker')),
    author_id    bigint,
    -- answer | clarification (a lawyer asking back) | followup (resident)
    kind         text NOT NULL DEFAULT 'answer' CHECK (kind IN ('answer', 'clarification', 'followup')),
    content      text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_question_idx ON messages (question_id, id);
CREATE INDEX messages_author_idx ON messages (author_role, author_id);

ALTER TABLE questions ADD CONSTRAINT questions_adopted_answer_fkey
    FOREIGN KEY (adopted_answer_id) REFERENCES messages (id);

CREATE TABLE ratings (
    question_id  bigint PRIMARY KEY REFERENCES questions (id),
    resident_id  bigint REFERENCES residents (id),
    score        smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Append-only: one row per state change. `level` is set only on escalation steps (1 = to the pool,
-- 2 = bureau alerted) and the unique constraint makes a second escalation at a level impossible.
CREATE TABLE question_events (
    id           bigserial PRIMARY KEY,
    question_id  bigint NOT NULL REFERENCES questions (id),
    kind         text NOT NULL,
    level        smallint,
    actor_role   text NOT NULL,
    actor_id     bigint,
    data         jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (question_id, level)
);
CREATE INDEX question_events_question_idx ON question_events (question_id, id);
CREATE INDEX question_events_kind_created_idx ON question_events (kind, created_at);

CREATE FUNCTION question_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'question_events is append-only';
END $$;
CREATE TRIGGER question_events_no_update BEFORE UPDATE OR DELETE ON question_events
    FOR EACH ROW EXECUTE FUNCTION question_events_append_only();
