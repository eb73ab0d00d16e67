-- pupil_month for one school year from the temporary tables of derive_prepare.sql and
-- derive_absences.sql and the fresh pupil_year rows: the rows of the pupils in scope
-- (sql/derive_clear.sql deleted their old ones; other pupils and other years keep theirs). One row per
-- pupil (of pupil_year) and calendar month in which the pupil's MAIN school's holiday region
-- has a school day and the pupil has a possible school day; the school, grade band and
-- residence of every month are those of pupil_year (one pupil, one place). The rows carry no
-- pupil key (nothing reads one; writing 64-character keys for every pupil-month doubled the
-- time of this step), only its first 16 characters (pupil_tag) for the incremental delete.
-- Parameters: $school_year, $max_month_minutes, $max_year_minutes.
-- Clamps (bounds from service.ingest.bounds, declared in service.releases.catalogue):
-- possible = Σ over enrolments of their school days in the month × day minutes, clamped to
-- the main school's region's school days in the month × its day minutes and to
-- $max_month_minutes; then, month by month in calendar order, to what the year's
-- $max_year_minutes leaves after the earlier months, so that a pupil's months add up to at
-- most the year's cap whatever the data (the `total_cap` of MONTH_TOTALS). Every absent total
-- <= possible, and the five reasons are clamped in a fixed order (sick, authorised,
-- unauthorised, late, suspended) to what possible leaves, so that they add up to at most
-- possible (absences are already capped at one school day per day in d_absday and counted by
-- the month of the date).

-- d_month: the school days of each region and calendar month as a day_index range (school
-- days of a month are consecutive in day_index); month is the public key 'YYYY-MM'.
CREATE OR REPLACE TEMP TABLE d_month AS
SELECT c.holiday_region,
       ((year(c.day) - year(y.first_day)) * 12 + month(c.day) - month(y.first_day))::TINYINT
           AS month_index,
       strftime(min(c.day), '%Y-%m') AS month, min(c.day_index) AS first_idx,
       max(c.day_index) AS last_idx, count(*) AS days
FROM calendar_day c JOIN school_year y USING (school_year)
WHERE c.school_year = $school_year
GROUP BY ALL;

INSERT INTO pupil_month BY NAME
WITH pupil AS (         -- the pupil's attributes of the year (pupil_year), by the integer pid
    SELECT p.pid, pupil_tag(p.pupil_key) AS pupil_tag, p.holiday_region, p.day_minutes,
           py.school_id, py.grade_band, py.residence_code
    FROM d_pupil p
    JOIN pupil_year py ON py.school_year = $school_year AND py.pupil_key = p.pupil_key
), enrol_month AS (     -- one row per enrolment and month it touches
    SELECT p.pid, p.n_enrol, m.month_index,
           (least(e.to_idx, m.last_idx) - greatest(e.from_idx, m.first_idx) + 1)
               * e.day_minutes AS minutes
    FROM d_enrol e
    JOIN d_pupil p USING (pupil_key)
    JOIN d_month m ON m.holiday_region = e.holiday_region
                  AND m.last_idx >= e.from_idx AND m.first_idx <= e.to_idx
), summed AS (          -- pupils with one enrolment need no grouping
    SELECT pid, month_index, minutes FROM enrol_month WHERE n_enrol = 1
    UNION ALL
    SELECT pid, month_index, sum(minutes) FROM enrol_month WHERE n_enrol > 1
    GROUP BY pid, month_index
), absent AS (
    SELECT pid, month_index, sum(absent) AS absent, sum(sick) AS sick,
           sum(authorised) AS authorised, sum(unauthorised) AS unauthorised, sum(late) AS late,
           sum(suspended) AS suspended
    FROM d_absday GROUP BY pid, month_index
), month_clamped AS (   -- possible: clamped to the main school's month and the declared bound
    SELECT s.pid, s.month_index, p.pupil_tag, p.school_id, p.grade_band, p.residence_code,
           m.month,
           least(s.minutes, m.days * p.day_minutes, $max_month_minutes) AS month_possible,
           coalesce(a.absent, 0) AS absent, coalesce(a.sick, 0) AS sick,
           coalesce(a.authorised, 0) AS authorised, coalesce(a.unauthorised, 0) AS unauthorised,
           coalesce(a.late, 0) AS late, coalesce(a.suspended, 0) AS suspended
    FROM summed s
    JOIN pupil p USING (pid)
    JOIN d_month m ON m.holiday_region = p.holiday_region AND m.month_index = s.month_index
    LEFT JOIN absent a ON a.pid = s.pid AND a.month_index = s.month_index
), clamped AS (         -- the year's cap over the months so far: least(S_m, cap) - least(S_m-1, cap)
    SELECT * EXCLUDE (month_possible, before),
           least(before + month_possible, $max_year_minutes)
               - least(before, $max_year_minutes) AS possible
    FROM (SELECT *, coalesce(sum(month_possible) OVER (
                        PARTITION BY pid ORDER BY month_index
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
          FROM month_clamped) AS running
), capped AS (          -- absent <= possible; the reasons in a fixed order within possible
    SELECT * EXCLUDE (pid, month_index, absent, sick, authorised, unauthorised, late, suspended),
           least(absent, possible) AS absent_c,
           least(sick, possible) AS sick_c,
           least(authorised, possible - least(sick, possible)) AS authorised_c,
           least(unauthorised, possible - least(sick + authorised, possible)) AS unauthorised_c,
           least(late, possible - least(sick + authorised + unauthorised, possible)) AS late_c,
           least(suspended, possible - least(sick + authorised + unauthorised + late, possible))
               AS suspended_c
    FROM clamped
)
SELECT $school_year AS school_year, pupil_tag, month, school_id, grade_band, residence_code,
       possible::INTEGER AS possible_minutes,
       absent_c::INTEGER AS absent_minutes,
       sick_c::INTEGER AS sick_minutes,
       authorised_c::INTEGER AS authorised_minutes,
       unauthorised_c::INTEGER AS unauthorised_minutes,
       late_c::INTEGER AS late_minutes,
       suspended_c::INTEGER AS suspended_minutes,
       is_chronic(absent_c, possible) AS chronic,
       is_severe(absent_c, possible) AS severe,
       absence_band(absent_c, possible) AS band
FROM capped;
