-- pupil_week for one school year from the temporary tables of derive_prepare.sql; replaces
-- that year's rows and keeps the other years. One row per pupil (of pupil_year) and school
-- week with possible minutes > 0; the school of every week is the pupil's main school of the
-- year. Weeks of an enrolment are those of its school's holiday region. Clamps: possible <=
-- $max_week_minutes, absent <= possible, unauthorised <= absent. Parameters: $school_year,
-- $max_week_minutes.
CREATE OR REPLACE TABLE pupil_week AS
WITH enrol_weeks AS (
    SELECT p.pid, e.holiday_region, e.day_minutes, e.from_idx, e.to_idx,
           unnest(range(cf.week_index, ct.week_index + 1)) AS week_index
    FROM d_enrol e
    JOIN d_pupil p USING (pupil_key)
    JOIN calendar_day cf ON cf.school_year = $school_year AND cf.holiday_region = e.holiday_region
                        AND cf.day_index = e.from_idx
    JOIN calendar_day ct ON ct.school_year = $school_year AND ct.holiday_region = e.holiday_region
                        AND ct.day_index = e.to_idx
), possible AS (
    SELECT ew.pid, ew.week_index,
           sum((least(ew.to_idx, w.last_idx) - greatest(ew.from_idx, w.first_idx) + 1)
               * ew.day_minutes) AS minutes
    FROM enrol_weeks ew
    JOIN d_week w ON w.holiday_region = ew.holiday_region AND w.week_index = ew.week_index
    GROUP BY ew.pid, ew.week_index
), absent AS (
    SELECT pid, week_index, sum(absent) AS absent, sum(unauthorised) AS unauthorised
    FROM d_absday WHERE week_index IS NOT NULL
    GROUP BY pid, week_index
), clamped AS (
    SELECT p.pupil_key, pw.week_index, p.school_id, p.sector, p.holiday_region,
           least(pw.minutes, $max_week_minutes) AS possible,
           least(coalesce(a.absent, 0), least(pw.minutes, $max_week_minutes)) AS absent,
           coalesce(a.unauthorised, 0) AS unauthorised
    FROM possible pw
    JOIN d_pupil p USING (pid)
    LEFT JOIN absent a USING (pid, week_index)
    WHERE pw.minutes > 0
)
SELECT * FROM pupil_week WHERE school_year <> $school_year
UNION ALL BY NAME
SELECT $school_year AS school_year, c.pupil_key, c.week_index::INTEGER AS week_index,
       w.iso_year::INTEGER AS iso_year, w.iso_week::INTEGER AS iso_week, c.school_id, c.sector,
       c.possible::INTEGER AS possible_minutes, c.absent::INTEGER AS absent_minutes,
       least(c.unauthorised, c.absent)::INTEGER AS unauthorised_minutes
FROM clamped c
LEFT JOIN d_week w ON w.holiday_region = c.holiday_region AND w.week_index = c.week_index;
