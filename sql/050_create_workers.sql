-- Community workers (社区工作者): the third party of the linkage. A worker's id is its account id.
CREATE TABLE workers (
    id          bigint PRIMARY KEY REFERENCES accounts (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    phone       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The communities a worker serves; a worker sees and acts only on questions of these.
CREATE TABLE worker_communities (
    worker_id     bigint NOT NULL REFERENCES workers (id),
    community_id  bigint NOT NULL REFERENCES communities (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (worker_id, community_id)
);
CREATE INDEX worker_communities_community_idx ON worker_communities (community_id);

-- A question a worker asked on behalf of a resident who cannot use the mini-program. The worker who
-- entered it is treated as the asker when masking: they need the number to call the resident back.
ALTER TABLE questions ADD COLUMN asked_by_worker_id bigint REFERENCES workers (id);
CREATE INDEX questions_asked_by_worker_idx ON questions (asked_by_worker_id) WHERE asked_by_worker_id IS NOT NULL;

-- The offline resident's identity, kept apart from the question so it can be erased on its own.
CREATE TABLE offline_askers (
    question_id  bigint PRIMARY KEY REFERENCES questions (id),
    worker_id    bigint NOT NULL REFERENCES workers (id),
    name         text CHECK (length(name) BETWEEN 1 AND 50),
    phone        text CHECK (length(phone) BETWEEN 3 AND 32),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Internal notes: lawyers, workers and the bureau read them; the resident never does.
CREATE TABLE question_notes (
    id           bigserial PRIMARY KEY,
    question_id  bigint NOT NULL REFERENCES questions (id),
    author_role  text NOT NULL CHECK (author_role IN ('lawyer', 'worker', 'bureau')),
    author_id    bigint NOT NULL REFERENCES accounts (id),
    content      text NOT NULL CHECK (length(content) BETWEEN 1 AND 5000),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX question_notes_question_idx ON question_notes (question_id, id);

-- Referrals to services outside the platform, with the outcome recorded later (once).
CREATE TABLE question_referrals (
    id            bigserial PRIMARY KEY,
    question_id   bigint NOT NULL REFERENCES questions (id),
    to_service    text NOT NULL CHECK (to_service IN ('mediation', 'legal_aid', 'hotline_12345', 'litigation')),
    note          text CHECK (length(note) <= 2000),
    author_role   text NOT NULL CHECK (author_role IN ('lawyer', 'worker', 'bureau')),
    author_id     bigint NOT NULL REFERENCES accounts (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    outcome       text CHECK (outcome IN ('resolved', 'unresolved', 'withdrawn')),
    outcome_note  text CHECK (length(outcome_note) <= 2000),
    outcome_by    bigint REFERENCES accounts (id),
    outcome_at    timestamptz,
    CHECK ((outcome IS NULL) = (outcome_at IS NULL))
);
CREATE INDEX question_referrals_question_idx ON question_referrals (question_id, id);
CREATE INDEX question_referrals_open_idx ON question_referrals (created_at) WHERE outcome IS NULL;
