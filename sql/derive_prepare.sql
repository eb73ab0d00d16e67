-- Per-pupil preparation for one school year (temporary tables, dropped with the connection's
-- transaction scope by service.ingest.derive). Only ACTIVE batches count. Every statement ends with
-- a semicolon at the end of a line; parameters: $school_year, $max_year_minutes, $every_pupil.
-- Scope: with $every_pupil every pupil of the year; otherwise only the pupils of d_scope
-- (sql/pending_scope.sql or a chunk: sql/pupil_chunk_scope.sql), from the batches of
-- d_scope_batch (sql/scope_batches.sql), which hold all their data: the
-- same statements, and so the same clamps, derive a few pupils or all of them.

-- d_day: every date of the school year per holiday region, with the number of school days
-- up to and including it (upto) and strictly before it (before). Days of an enrolment
-- [from, to] = upto(to) - before(from); its first/last school day index = before(from) + 1 /
-- upto(to).
CREATE OR REPLACE TEMP TABLE d_day AS
WITH yr AS (
    SELECT first_day, last_day FROM school_year WHERE school_year = $school_year
), dates AS (      -- day numbers, then dates: a form DuckDB and Spark (via sqlglot) agree on
    SELECT first_day + k::INTEGER AS day FROM (
        SELECT first_day, unnest(range(0, date_diff('day', first_day, last_day) + 1)) AS k FROM yr
    ) AS series
), regions AS (
    SELECT DISTINCT holiday_region FROM calendar_day WHERE school_year = $school_year
), marked AS (
    SELECT r.holiday_region, d.day, (c.day IS NOT NULL)::INTEGER AS is_school
    FROM regions r CROSS JOIN dates d
    LEFT JOIN calendar_day c
      ON c.school_year = $school_year AND c.holiday_region = r.holiday_region AND c.day = d.day
)
SELECT holiday_region, day,
       sum(is_school) OVER (PARTITION BY holiday_region ORDER BY day)::INTEGER AS upto,
       (sum(is_school) OVER (PARTITION BY holiday_region ORDER BY day) - is_school)::INTEGER AS before
FROM marked;

-- d_week: the school weeks of each region as day_index ranges.
CREATE OR REPLACE TEMP TABLE d_week AS
SELECT holiday_region, week_index, min(day_index) AS first_idx, max(day_index) AS last_idx,
       arg_min(iso_year, day_index) AS iso_year, arg_min(iso_week, day_index) AS iso_week
FROM calendar_day WHERE school_year = $school_year
GROUP BY holiday_region, week_index;

-- d_region: a small integer per holiday region; d_calendar: school days keyed by one
-- integer (region_no * 1000 + days since the year's first day) for fast joins.
CREATE OR REPLACE TEMP TABLE d_region AS
SELECT holiday_region, (row_number() OVER (ORDER BY holiday_region))::INTEGER AS region_no
FROM (SELECT DISTINCT holiday_region FROM calendar_day WHERE school_year = $school_year);

CREATE OR REPLACE TEMP TABLE d_calendar AS
SELECT r.region_no * 1000 + date_diff('day', y.first_day, c.day) AS cal_key, c.day_index, c.week_index
FROM calendar_day c JOIN d_region r USING (holiday_region)
JOIN school_year y ON y.school_year = c.school_year
WHERE c.school_year = $school_year;

-- d_batch: the active batches of the year (in scope) with their school's day minutes.
CREATE OR REPLACE TEMP TABLE d_batch AS
SELECT b.batch_id, sd.day_minutes
FROM batch b JOIN school s ON s.school_id = b.school_id JOIN sector_day sd ON sd.sector = s.sector
WHERE b.status = 'active' AND b.school_year = $school_year
  AND ($every_pupil OR b.batch_id IN (SELECT batch_id FROM d_scope_batch));

-- d_enrol: active enrolment rows with their school days (0 rows dropped).
CREATE OR REPLACE TEMP TABLE d_enrol AS
SELECT e.pupil_key, e.batch_id, e.school_id, s.sector, s.holiday_region, sd.day_minutes,
       e.grade, e.birth_year, e.residence_code, e.enrolled_from,
       f.before + 1 AS from_idx, t.upto AS to_idx, t.upto - f.before AS days
FROM enrolment e
JOIN batch b ON b.batch_id = e.batch_id AND b.status = 'active' AND b.school_year = $school_year
JOIN school s ON s.school_id = e.school_id
JOIN sector_day sd ON sd.sector = s.sector
JOIN school_year y ON y.school_year = $school_year
JOIN d_day f ON f.holiday_region = s.holiday_region AND f.day = greatest(e.enrolled_from, y.first_day)
JOIN d_day t ON t.holiday_region = s.holiday_region AND t.day = least(e.enrolled_to, y.last_day)
WHERE e.school_year = $school_year AND t.upto - f.before > 0
  -- the batches first: they hold every enrolment of the pupils in scope (d_scope_batch), and
  -- a batch's rows lie together, so a few pupils' derive reads a few row groups, not the year
  AND ($every_pupil OR (e.batch_id IN (SELECT batch_id FROM d_scope_batch)
                        AND e.pupil_key IN (SELECT pupil_key FROM d_scope)));

-- d_pupil: one row per pupil with at least one possible school day (pid: a dense integer id
-- for fast grouping below, local to this rebuild): the main school (most
-- possible minutes; ties: lowest school_id), its attributes from the latest enrolment there,
-- and possible minutes over ALL enrolments clamped to the region's year at the main school's
-- day length and to $max_year_minutes (the declared bound).
CREATE OR REPLACE TEMP TABLE d_pupil AS
WITH per_school AS (
    SELECT pupil_key, school_id,
           any_value(sector) AS sector, any_value(holiday_region) AS holiday_region,
           any_value(day_minutes) AS day_minutes,
           sum(days * day_minutes) AS possible, count(*) AS n_enrol,
           arg_max(grade, enrolled_from) AS grade,
           arg_max(birth_year, enrolled_from) AS birth_year,
           arg_max(residence_code, enrolled_from) AS residence_code
    FROM d_enrol GROUP BY pupil_key, school_id
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY pupil_key ORDER BY possible DESC, school_id) AS rank,
           count(*) OVER (PARTITION BY pupil_key) AS n_schools,
           sum(possible) OVER (PARTITION BY pupil_key) AS possible_all,
           sum(n_enrol) OVER (PARTITION BY pupil_key) AS n_enrol_all
    FROM per_school
), year_days AS (
    SELECT holiday_region, count(*) AS days FROM calendar_day
    WHERE school_year = $school_year GROUP BY holiday_region
)
SELECT row_number() OVER (ORDER BY r.pupil_key)::INTEGER AS pid,
       r.pupil_key, r.school_id, r.sector, r.holiday_region, r.day_minutes,
       r.grade, r.birth_year, r.residence_code, r.n_schools::INTEGER AS n_schools,
       r.n_enrol_all::INTEGER AS n_enrol, dr.region_no,
       least(r.possible_all, yd.days * r.day_minutes, $max_year_minutes)::INTEGER AS possible
FROM ranked r JOIN year_days yd USING (holiday_region) JOIN d_region dr USING (holiday_region)
WHERE r.rank = 1;
