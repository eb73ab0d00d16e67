-- pupil_month for one school year from the temporary tables of derive_prepare.sql and the
-- fresh pupil_year rows; replaces that year's rows and keeps the other years. One row per
-- pupil (of pupil_year) and calendar month in which the pupil's MAIN school's holiday region
-- has a school day and the pupil has a possible school day; the school, grade band and
-- residence of every month are those of pupil_year (one pupil, one place). The rows carry no
-- pupil key (nothing reads one; writing 64-character keys for every pupil-month doubled the
-- time of this step). Parameters: $school_year, $max_month_minutes.
-- Clamps (bounds from service.releases.catalogue): possible = Σ over enrolments of their school days
-- in the month × day minutes, clamped to the main school's region's school days in the month
-- × its day minutes and to $max_month_minutes; every absent total <= possible (absences are
-- already capped at one school day per day in d_absday and counted by the month of the date).

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

CREATE OR REPLACE TABLE pupil_month AS
WITH pupil AS (         -- the pupil's attributes of the year (pupil_year), by the integer pid
    SELECT p.pid, p.holiday_region, p.day_minutes, py.school_id, py.grade_band,
           py.residence_code
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
), clamped AS (         -- possible: clamped to the main school's month and the declared bound
    SELECT p.school_id, p.grade_band, p.residence_code, m.month,
           least(s.minutes, m.days * p.day_minutes, $max_month_minutes) AS possible,
           a.absent, a.sick, a.authorised, a.unauthorised, a.late, a.suspended
    FROM summed s
    JOIN pupil p USING (pid)
    JOIN d_month m ON m.holiday_region = p.holiday_region AND m.month_index = s.month_index
    LEFT JOIN absent a ON a.pid = s.pid AND a.month_index = s.month_index
), capped AS (          -- every absent total <= possible
    SELECT * EXCLUDE (absent, sick, authorised, unauthorised, late, suspended),
           least(coalesce(absent, 0), possible) AS absent_c,
           least(coalesce(sick, 0), possible) AS sick_c,
           least(coalesce(authorised, 0), possible) AS authorised_c,
           least(coalesce(unauthorised, 0), possible) AS unauthorised_c,
           least(coalesce(late, 0), possible) AS late_c,
           least(coalesce(suspended, 0), possible) AS suspended_c
    FROM clamped
)
SELECT * FROM pupil_month WHERE school_year <> $school_year
UNION ALL BY NAME
SELECT $school_year AS school_year, month, school_id, grade_band, residence_code,
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
