-- pupil_week for one school year from the temporary tables of derive_prepare.sql and
-- derive_absences.sql: the rows of the pupils in scope (sql/derive_clear.sql deleted their
-- old ones; other pupils and other years keep theirs). One row per pupil (of pupil_year) and
-- school week with possible minutes > 0; the school of every week is the pupil's main school of the
-- year. Weeks (and their ISO week) are those of the enrolment's school's holiday region.
-- Rows carry the pupil's pupil_tag (16 characters of the key), not the key.
-- Clamps: possible <= $max_week_minutes, absent <= possible, unauthorised <= absent.
-- Parameters: $school_year, $max_week_minutes.
INSERT INTO pupil_week BY NAME
WITH enrol AS (    -- 2.5 M rows: integer keys and the pupil's attributes, before the expansion
    SELECT p.pid, p.n_enrol, pupil_tag(p.pupil_key) AS pupil_tag, p.school_id, p.sector,
           e.holiday_region, e.day_minutes, e.from_idx, e.to_idx, cf.week_index AS first_week,
           ct.week_index AS last_week
    FROM d_enrol e
    JOIN d_pupil p USING (pupil_key)
    JOIN calendar_day cf ON cf.school_year = $school_year AND cf.holiday_region = e.holiday_region
                        AND cf.day_index = e.from_idx
    JOIN calendar_day ct ON ct.school_year = $school_year AND ct.holiday_region = e.holiday_region
                        AND ct.day_index = e.to_idx
), enrol_week AS ( -- one row per enrolment and school week it touches
    SELECT e.pid, e.n_enrol, e.pupil_tag, e.school_id, e.sector, w.week_index,
           w.iso_year, w.iso_week,
           (least(e.to_idx, w.last_idx) - greatest(e.from_idx, w.first_idx) + 1)
               * e.day_minutes AS minutes
    FROM enrol e
    JOIN d_week w ON w.holiday_region = e.holiday_region
                 AND w.week_index BETWEEN e.first_week AND e.last_week
), possible AS (   -- pupils with one enrolment need no grouping
    SELECT pid, pupil_tag, school_id, sector, week_index, iso_year, iso_week, minutes
    FROM enrol_week WHERE n_enrol = 1
    UNION ALL
    SELECT pid, any_value(pupil_tag), any_value(school_id), any_value(sector), week_index,
           min(iso_year), min(iso_week), sum(minutes)
    FROM enrol_week WHERE n_enrol > 1
    GROUP BY pid, week_index
), absent AS (
    SELECT pid, week_index, sum(absent) AS absent, sum(unauthorised) AS unauthorised
    FROM d_absday WHERE week_index IS NOT NULL
    GROUP BY pid, week_index
)
SELECT $school_year AS school_year, pw.pupil_tag, pw.week_index::INTEGER AS week_index,
       pw.iso_year::INTEGER AS iso_year, pw.iso_week::INTEGER AS iso_week, pw.school_id, pw.sector,
       least(pw.minutes, $max_week_minutes)::INTEGER AS possible_minutes,
       least(coalesce(a.absent, 0), pw.minutes, $max_week_minutes)::INTEGER AS absent_minutes,
       least(coalesce(a.unauthorised, 0), coalesce(a.absent, 0), pw.minutes,
             $max_week_minutes)::INTEGER AS unauthorised_minutes
FROM possible pw
LEFT JOIN absent a ON a.pid = pw.pid AND a.week_index = pw.week_index
WHERE pw.minutes > 0;
