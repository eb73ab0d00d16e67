-- Per-pupil absences of one school year, after sql/derive_prepare.sql (its d_pupil, d_batch,
-- d_calendar: the pupils and batches in scope). Parameters: $school_year.

-- d_absday: one row per pupil and absence day, minutes by reason, with the day capped at
-- one school day (the longest day of the schools that recorded it) by filling the reasons in
-- a fixed order (sick, authorised, unauthorised, late, suspended) so that they add up to the
-- capped day. Absences recorded by any school that enrols the pupil count (one pupil, one
-- place), in the batch that enrols them (ingest accepts no other: sql/validate_absence.sql;
-- so a pupil's values depend on their own rows only, whichever pupils are derived with
-- them: sql/scope_batches.sql). The day's
-- day_index/week_index come from the calendar of the pupil's MAIN school (NULL if that
-- region has no school day then); month_index is the calendar month of the date (0 = the
-- school year's first month, August; months counted from year and month, which DuckDB and
-- Spark agree on, unlike their date_diff('month')).
CREATE OR REPLACE TEMP TABLE d_absday AS
WITH enrolled AS (
    SELECT DISTINCT e.batch_id, e.pupil_key, p.pid, p.region_no
    FROM d_enrol e JOIN d_pupil p USING (pupil_key)
), raw AS (
    SELECT p.pid, a.day, any_value(p.region_no) AS region_no, max(b.day_minutes) AS cap,
           coalesce(sum(a.minutes) FILTER (WHERE a.reason = 'sick'), 0) AS sick,
           coalesce(sum(a.minutes) FILTER (WHERE a.reason = 'authorised'), 0) AS authorised,
           coalesce(sum(a.minutes) FILTER (WHERE a.reason = 'unauthorised'), 0) AS unauthorised,
           coalesce(sum(a.minutes) FILTER (WHERE a.reason = 'late'), 0) AS late,
           coalesce(sum(a.minutes) FILTER (WHERE a.reason = 'suspended'), 0) AS suspended
    FROM absence a
    JOIN d_batch b ON b.batch_id = a.batch_id
    JOIN enrolled p ON p.batch_id = a.batch_id AND p.pupil_key = a.pupil_key
    WHERE a.school_year = $school_year AND a.minutes > 0
    GROUP BY p.pid, a.day
), filled AS (
    SELECT pid, day, region_no, cap,
           least(sick, cap) AS sick,
           least(authorised, cap - least(sick, cap)) AS authorised,
           least(unauthorised, cap - least(sick + authorised, cap)) AS unauthorised,
           least(late, cap - least(sick + authorised + unauthorised, cap)) AS late,
           least(suspended, cap - least(sick + authorised + unauthorised + late, cap)) AS suspended
    FROM raw
)
SELECT f.pid, f.cap::SMALLINT AS cap, f.sick::SMALLINT AS sick,
       f.authorised::SMALLINT AS authorised, f.unauthorised::SMALLINT AS unauthorised,
       f.late::SMALLINT AS late, f.suspended::SMALLINT AS suspended,
       (f.sick + f.authorised + f.unauthorised + f.late + f.suspended)::SMALLINT AS absent,
       c.day_index::SMALLINT AS day_index, c.week_index::SMALLINT AS week_index,
       ((year(f.day) - year(y.first_day)) * 12 + month(f.day) - month(y.first_day))::TINYINT
           AS month_index
FROM filled f
JOIN school_year y ON y.school_year = $school_year
LEFT JOIN d_calendar c ON c.cal_key = f.region_no * 1000 + date_diff('day', y.first_day, f.day);
