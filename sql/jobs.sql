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

-- The statements of service/jobs/records.py.

-- name: next_id
SELECT nextval('job_seq');

-- name: queue
INSERT INTO job (job_id, kind, school_year, school_id, batch_id, week, state, queued_at)
VALUES ($job_id, $kind, $school_year, $school_id, $batch_id, $week, 'queued', $now);

-- name: get
SELECT job_id, kind, school_year, school_id, batch_id, week, state, queued_at, started_at,
       finished_at, seconds, progress, release_id, error
FROM job WHERE job_id = $job_id;

-- name: next_queued
SELECT job_id, kind, school_year, school_id, batch_id, week, state, queued_at, started_at,
       finished_at, seconds, progress, release_id, error
FROM job WHERE state = 'queued' ORDER BY job_id LIMIT 1;

-- name: queued_of_kind
SELECT job_id FROM job
WHERE state = 'queued' AND kind = $kind AND school_year = $school_year ORDER BY job_id;

-- name: start
UPDATE job SET state = 'running', started_at = $now, progress = $progress
WHERE list_contains($job_ids, job_id);

-- name: step
UPDATE job SET progress = $progress WHERE list_contains($job_ids, job_id);

-- name: finish
UPDATE job SET state = $state, finished_at = $now, seconds = $seconds, progress = NULL,
       release_id = $release_id, error = $error
WHERE list_contains($job_ids, job_id);

-- name: count_running
SELECT count(*) FROM job WHERE state = 'running';

-- name: requeue_running
UPDATE job SET state = 'queued', started_at = NULL, progress = NULL WHERE state = 'running';

-- name: open_weeks
SELECT week FROM job
WHERE kind = 'release_week' AND school_year = $school_year AND state IN ('queued', 'running');

-- name: count_open
SELECT count(*) FROM job WHERE state IN ('queued', 'running');

-- name: school_states
SELECT b.school_id, b.school_year, b.batch_id, b.received_at, j.job_id, j.state,
       j.finished_at, j.error
FROM batch b
LEFT JOIN (SELECT * FROM job WHERE kind = 'derive'
           QUALIFY row_number() OVER (PARTITION BY school_id, school_year
                                      ORDER BY job_id DESC) = 1) j
  ON j.school_id = b.school_id AND j.school_year = b.school_year
WHERE b.status = 'active' AND ($school_year IS NULL OR b.school_year = $school_year)
ORDER BY b.school_year, b.school_id;

