-- One row per pupil and calendar month of pupil_month for $school_year (derive keeps one row
-- per pupil and month, at the pupil's main school of the year) with its public group columns
-- and its CLAMPED contribution to every monthly total of service.releases.catalogue.MONTH_TOTALS
-- (column t_<total>). The clamps repeat those of derive with the same declared per-cell bound
-- (parameter $max_month_minutes): counts are 0/1, minute totals lie in
-- [0, $max_month_minutes] and every absent total in [0, possible]; the five reasons add up to
-- at most possible (clamped in a fixed order, as in sql/aggregate_contributions.sql); the five
-- band columns are exclusive (exactly one is 1). A pupil has at most one row per month, and
-- months are the calendar's (at most MAX_MONTHS), so it touches at most one cell per month of
-- a grouping. The yearly cap over a pupil's months (a pupil's possible minutes, and so every
-- minute total, add up to at most $max_year_minutes over the months: MONTH_TOTALS'
-- `total_cap`) is applied by sql/derive_pupil_month.sql, which sees the pupil; these rows
-- carry no pupil identity to repeat it with.
-- This text is the body of a CTE: no trailing semicolon.
SELECT s.school_id, s.sector, s.municipality_code, s.province_code, s.rmc_code, s.swv_code,
       pm.school_year, pm.grade_band, pm.residence_code, pm.month,
       1::BIGINT AS t_enrolled,
       p.possible::BIGINT AS t_possible_minutes,
       least(greatest(pm.absent_minutes, 0), p.possible)::BIGINT AS t_absent_minutes,
       least(r.sick, p.possible)::BIGINT AS t_sick_minutes,
       least(r.authorised, p.possible - least(r.sick, p.possible))::BIGINT AS t_authorised_minutes,
       least(r.unauthorised, p.possible - least(r.sick + r.authorised, p.possible))::BIGINT
           AS t_unauthorised_minutes,
       least(r.late, p.possible - least(r.sick + r.authorised + r.unauthorised, p.possible))::BIGINT
           AS t_late_minutes,
       least(r.suspended,
             p.possible - least(r.sick + r.authorised + r.unauthorised + r.late, p.possible))::BIGINT
           AS t_suspended_minutes,
       coalesce(pm.chronic, false)::BIGINT AS t_chronic,
       coalesce(pm.severe, false)::BIGINT AS t_severe,
       (coalesce(pm.band, 0) = 0)::BIGINT AS t_band_0,
       (pm.band = 1)::BIGINT AS t_band_1,
       (pm.band = 2)::BIGINT AS t_band_2,
       (pm.band = 3)::BIGINT AS t_band_3,
       (pm.band >= 4)::BIGINT AS t_band_4
FROM pupil_month pm
JOIN school s ON s.school_id = pm.school_id
CROSS JOIN LATERAL (
    SELECT least(greatest(pm.possible_minutes, 0), $max_month_minutes) AS possible
) p
CROSS JOIN LATERAL (    -- the reasons, never negative (NULL as 0)
    SELECT greatest(coalesce(pm.sick_minutes, 0), 0) AS sick,
           greatest(coalesce(pm.authorised_minutes, 0), 0) AS authorised,
           greatest(coalesce(pm.unauthorised_minutes, 0), 0) AS unauthorised,
           greatest(coalesce(pm.late_minutes, 0), 0) AS late,
           greatest(coalesce(pm.suspended_minutes, 0), 0) AS suspended
) r
WHERE pm.school_year = $school_year
