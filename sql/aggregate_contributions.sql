-- One row per pupil of pupil_year for $school_year (derive keeps one row per pupil, at its
-- main school) with its public group columns and its CLAMPED contribution to every total of
-- service.releases.catalogue.TOTALS (column t_<total>). The clamps repeat those of derive with the
-- same declared bounds (parameters $max_year_minutes): counts are 0/1, minute totals lie in
-- [0, $max_year_minutes] and every absent total in [0, possible]; the five reasons are
-- clamped in a fixed order (sick, authorised, unauthorised, late, suspended) to what possible
-- leaves, so they add up to at most possible (each in [0, possible] too: the joint reason
-- table's bound, catalogue.JOINT_TABLES); the five band columns are exclusive (exactly one is 1). This text is the body of a CTE: no trailing semicolon.
SELECT s.school_id, s.sector, s.municipality_code, s.province_code, s.rmc_code, s.swv_code,
       py.school_year, py.grade_band, py.residence_code,
       1::BIGINT AS t_enrolled,
       p.possible::BIGINT AS t_possible_minutes,
       least(greatest(py.absent_minutes, 0), p.possible)::BIGINT AS t_absent_minutes,
       least(r.sick, p.possible)::BIGINT AS t_sick_minutes,
       least(r.authorised, p.possible - least(r.sick, p.possible))::BIGINT AS t_authorised_minutes,
       least(r.unauthorised, p.possible - least(r.sick + r.authorised, p.possible))::BIGINT
           AS t_unauthorised_minutes,
       least(r.late, p.possible - least(r.sick + r.authorised + r.unauthorised, p.possible))::BIGINT
           AS t_late_minutes,
       least(r.suspended,
             p.possible - least(r.sick + r.authorised + r.unauthorised + r.late, p.possible))::BIGINT
           AS t_suspended_minutes,
       coalesce(py.chronic, false)::BIGINT AS t_chronic,
       coalesce(py.severe, false)::BIGINT AS t_severe,
       coalesce(py.long_term, false)::BIGINT AS t_long_term,
       coalesce(py.signal16, false)::BIGINT AS t_signal16,
       (coalesce(py.band, 0) = 0)::BIGINT AS t_band_0,
       (py.band = 1)::BIGINT AS t_band_1,
       (py.band = 2)::BIGINT AS t_band_2,
       (py.band = 3)::BIGINT AS t_band_3,
       (py.band >= 4)::BIGINT AS t_band_4
FROM pupil_year py
JOIN school s ON s.school_id = py.school_id
CROSS JOIN LATERAL (
    SELECT least(greatest(py.possible_minutes, 0), $max_year_minutes) AS possible
) p
CROSS JOIN LATERAL (    -- the reasons, never negative (NULL as 0)
    SELECT greatest(coalesce(py.sick_minutes, 0), 0) AS sick,
           greatest(coalesce(py.authorised_minutes, 0), 0) AS authorised,
           greatest(coalesce(py.unauthorised_minutes, 0), 0) AS unauthorised,
           greatest(coalesce(py.late_minutes, 0), 0) AS late,
           greatest(coalesce(py.suspended_minutes, 0), 0) AS suspended
) r
WHERE py.school_year = $school_year
