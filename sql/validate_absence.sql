-- Every problem in an uploaded absence table, one row per (row, field).
-- Input views: upload_absence(row_no, pupil_number, date, hours, reason) all VARCHAR, and
-- upload_enrolment as in validate_enrolment.sql. Never echo pupil_number values.
WITH e AS (
    SELECT pupil_number,
        try_strptime(enrolled_from, '%Y-%m-%d')::DATE AS d_from,
        CASE WHEN coalesce(trim(enrolled_to), '') = '' THEN $last_day::DATE
             ELSE try_strptime(enrolled_to, '%Y-%m-%d')::DATE END AS d_to
    FROM upload_enrolment
),
t AS (
    SELECT *,
        try_strptime("date", '%Y-%m-%d')::DATE AS d,
        CASE WHEN regexp_full_match(coalesce(hours, ''), '[0-9]+(\.[0-9]{1,2})?')
             THEN TRY_CAST(hours AS DECIMAL(6, 2)) END AS h
    FROM upload_absence
),
problems AS (
    SELECT row_no, 'pupil_number' AS field,
           'expected 9 digits that pass the 11-test (BSN/PGN)' AS message
    FROM t
    WHERE NOT regexp_full_match(coalesce(pupil_number, ''), '[0-9]{9}')
    UNION ALL
    SELECT row_no, 'date',
           'expected a school day (YYYY-MM-DD) of holiday region ' || $region || ' in school year ' || $school_year || ', got ''' || coalesce("date", '') || ''''
    FROM t
    WHERE d IS NULL OR d NOT IN (
        SELECT day FROM calendar_day WHERE school_year = $school_year AND holiday_region = $region)
    UNION ALL
    SELECT row_no, 'hours',
           'expected hours > 0 and at most ' || round($day_minutes / 60.0, 2) || ' (one school day), with at most two decimals, got ''' || coalesce(hours, '') || ''''
    FROM t WHERE h IS NULL OR h <= 0 OR h * 60 > $day_minutes
    UNION ALL
    SELECT row_no, 'reason',
           'expected one of sick, authorised, unauthorised, late, suspended, got ''' || coalesce(reason, '') || ''''
    FROM t WHERE coalesce(reason, '') NOT IN ('sick', 'authorised', 'unauthorised', 'late', 'suspended')
    UNION ALL
    SELECT row_no, 'pupil_number',
           'no enrolment of this pupil at this school on that date in the enrolment file'
    FROM t
    WHERE d IS NOT NULL AND regexp_full_match(coalesce(pupil_number, ''), '[0-9]{9}')
      AND NOT EXISTS (SELECT 1 FROM e WHERE e.pupil_number = t.pupil_number
                      AND t.d BETWEEN e.d_from AND e.d_to)
    UNION ALL
    -- several rows for one pupil and day may not add up to more than the school day
    SELECT row_no, 'hours',
           'the absences of this pupil on this date add up to more than one school day ('
           || round($day_minutes / 60.0, 2) || ' hours)'
    FROM (SELECT row_no, sum(h) OVER (PARTITION BY pupil_number, d) AS day_total,
                 count(*) OVER (PARTITION BY pupil_number, d) AS day_rows
          FROM t WHERE d IS NOT NULL AND h IS NOT NULL)
    WHERE day_rows > 1 AND day_total * 60 > $day_minutes
)
SELECT row_no, field, message FROM problems ORDER BY row_no, field
