-- pupil_year for one school year from the temporary tables of derive_prepare.sql and
-- derive_absences.sql: the rows of the pupils in scope (sql/derive_clear.sql deleted their
-- old ones; other pupils and other years keep theirs). Per-pupil clamps (bounds from
-- service.ingest.bounds, passed as parameters): possible <= $max_year_minutes (in derive_prepare), every absent total
-- <= possible, the five reasons clamped in a fixed order (sick, authorised, unauthorised, late,
-- suspended) to what possible leaves, so that they add up to at most possible (the joint
-- reason table of service.releases.catalogue.JOINT_TABLES), longest run <= $max_school_days. Parameters: $school_year, $max_school_days,
-- $long_term_days, $signal_minutes, $signal_weeks.
INSERT INTO pupil_year BY NAME
WITH absent_year AS (
    SELECT pid, sum(absent) AS absent, sum(sick) AS sick, sum(authorised) AS authorised,
           sum(unauthorised) AS unauthorised, sum(late) AS late, sum(suspended) AS suspended
    FROM d_absday GROUP BY pid
), full_days AS (   -- gaps and islands: consecutive school days share day_index - row_number
    SELECT pid,
           day_index - row_number() OVER (PARTITION BY pid ORDER BY day_index) AS island
    FROM d_absday WHERE absent >= cap AND day_index IS NOT NULL
), runs AS (
    SELECT pid, max(n) AS longest FROM (
        SELECT pid, island, count(*) AS n FROM full_days GROUP BY pid, island
    ) GROUP BY pid
), unauth_week AS (
    SELECT pid, week_index, sum(unauthorised) AS minutes
    FROM d_absday WHERE unauthorised > 0 AND week_index IS NOT NULL
    GROUP BY pid, week_index
), ends AS (       -- every school week that ends a window holding some unauthorised minutes
    SELECT DISTINCT u.pid, unnest(range(u.week_index, u.week_index + $signal_weeks)) AS week_end,
           lw.last_week
    FROM unauth_week u JOIN d_pupil p USING (pid)
    JOIN (SELECT holiday_region, max(week_index) AS last_week FROM d_week GROUP BY ALL) lw
      USING (holiday_region)
), windows AS (     -- the window of $signal_weeks school weeks ending at each such week
    SELECT e.pid, e.week_end, sum(u.minutes) AS minutes
    FROM ends e JOIN unauth_week u
      ON u.pid = e.pid
     AND u.week_index BETWEEN e.week_end - ($signal_weeks - 1) AND e.week_end
    WHERE e.week_end <= e.last_week
    GROUP BY e.pid, e.week_end
), signals AS (
    SELECT pid, count(*) AS weeks FROM windows
    WHERE minutes >= $signal_minutes GROUP BY pid
), clamped AS (
    SELECT p.*,
           least(coalesce(a.absent, 0), p.possible) AS absent_c,
           least(coalesce(a.sick, 0), p.possible) AS sick_c,
           least(coalesce(a.authorised, 0),
                 p.possible - least(coalesce(a.sick, 0), p.possible)) AS authorised_c,
           least(coalesce(a.unauthorised, 0),
                 p.possible - least(coalesce(a.sick, 0) + coalesce(a.authorised, 0),
                                    p.possible)) AS unauthorised_c,
           least(coalesce(a.late, 0),
                 p.possible - least(coalesce(a.sick, 0) + coalesce(a.authorised, 0)
                                    + coalesce(a.unauthorised, 0), p.possible)) AS late_c,
           least(coalesce(a.suspended, 0),
                 p.possible - least(coalesce(a.sick, 0) + coalesce(a.authorised, 0)
                                    + coalesce(a.unauthorised, 0) + coalesce(a.late, 0),
                                    p.possible)) AS suspended_c,
           least(coalesce(r.longest, 0), $max_school_days) AS longest_c,
           coalesce(g.weeks, 0) AS signal_weeks_c
    FROM d_pupil p
    LEFT JOIN absent_year a USING (pid)
    LEFT JOIN runs r USING (pid)
    LEFT JOIN signals g USING (pid)
)
SELECT $school_year AS school_year, pupil_key, school_id, sector, grade::SMALLINT AS grade,
       CASE WHEN sector IN ('PO', 'SBO', 'SO') THEN
                CASE WHEN grade BETWEEN 1 AND 2 THEN 'po_onder'
                     WHEN grade BETWEEN 3 AND 5 THEN 'po_midden'
                     WHEN grade BETWEEN 6 AND 8 THEN 'po_boven' END
            ELSE
                CASE WHEN grade BETWEEN 1 AND 3 THEN 'vo_onder'
                     WHEN grade BETWEEN 4 AND 6 THEN 'vo_boven' END
       END AS grade_band,
       residence_code, birth_year::SMALLINT AS birth_year,
       possible::INTEGER AS possible_minutes,
       absent_c::INTEGER AS absent_minutes,
       sick_c::INTEGER AS sick_minutes,
       authorised_c::INTEGER AS authorised_minutes,
       unauthorised_c::INTEGER AS unauthorised_minutes,
       late_c::INTEGER AS late_minutes,
       suspended_c::INTEGER AS suspended_minutes,
       longest_c::INTEGER AS longest_absent_run,
       longest_c >= $long_term_days AS long_term,
       signal_weeks_c > 0 AS signal16,
       signal_weeks_c::INTEGER AS signal16_weeks,
       is_chronic(absent_c, possible) AS chronic,
       is_severe(absent_c, possible) AS severe,
       absence_band(absent_c, possible) AS band,
       n_schools
FROM clamped;
