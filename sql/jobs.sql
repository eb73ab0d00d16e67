-- Background work of the serving process (service/jobs/): derives after an upload, scheduled
-- weekly releases, standard releases. Applied on open by service.db.connect; idempotent.
-- A job row holds ids, states, timings and an error class/message, never pupil data.
CREATE SEQUENCE IF NOT EXISTS job_seq START 1;

CREATE TABLE IF NOT EXISTS job (
    job_id       BIGINT PRIMARY KEY,
    kind         VARCHAR NOT NULL,     -- derive | release_week | release_standard
    school_year  VARCHAR NOT NULL,
    school_id    VARCHAR,              -- derive after an upload: the uploading school
    batch_id     BIGINT,               -- derive after an upload: the batch that committed
    week         INTEGER,              -- release_week
    state        VARCHAR NOT NULL,     -- queued | running | derived | released | failed
    queued_at    TIMESTAMP NOT NULL,   -- UTC
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP,
    seconds      DOUBLE,               -- time spent running
    progress     VARCHAR,              -- the step a running job is at
    release_id   VARCHAR,              -- what a release job published
    error        VARCHAR               -- why it failed (no pupil data)
);
