-- Every problem in uploaded absence tables, one row per (batch, row, field), at most $cap + 1
-- per batch. Input views: upload_absence(batch_no, row_no, pupil_number, date, hours, reason)
-- as text, upload_enrolment as in validate_enrolment.sql, and upload_batch(batch_no,
-- school_year, last_day, holiday_region, day_minutes). Never echo a value of the file.
WITH e AS (
    SELECT u.batch_no, u.pupil_number,
        CASE WHEN regexp_full_match(u.enrolled_from, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
             THEN try_strptime(u.enrolled_from, '%Y-%m-%d')::DATE END AS d_from,
        CASE WHEN trim(u.enrolled_to) = '' THEN b.last_day
             WHEN regexp_full_match(u.enrolled_to, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
             THEN try_strptime(u.enrolled_to, '%Y-%m-%d')::DATE END AS d_to
    FROM upload_enrolment u JOIN upload_batch b USING (batch_no)
),
t AS (
    SELECT u.*, b.school_year, b.holiday_region, b.day_minutes,
        -- strictly YYYY-MM-DD: strptime alone would take 2025-9-3
        CASE WHEN regexp_full_match(u."date", '[0-9]{4}-[0-9]{2}-[0-9]{2}')
             THEN try_strptime(u."date", '%Y-%m-%d')::DATE END AS d,
        CASE WHEN regexp_full_match(u.hours, '[0-9]+(\.[0-9]{1,2})?')
             THEN TRY_CAST(u.hours AS DECIMAL(6, 2)) END AS h,
        regexp_full_match(u.pupil_number, '[0-9]{9}') AND u.pupil_number <> '000000000' AS number_ok
    FROM upload_absence u JOIN upload_batch b USING (batch_no)
),
checked AS (
    SELECT t.*,
        c.day IS NOT NULL AS school_day,
        t.reason IN ('sick', 'authorised', 'unauthorised', 'late', 'suspended') AS reason_ok,
        sum(t.h) OVER day_rows AS day_total,
        count(*) OVER day_rows AS day_count
    FROM t LEFT JOIN calendar_day c
      ON c.school_year = t.school_year AND c.holiday_region = t.holiday_region AND c.day = t.d
    WINDOW day_rows AS (PARTITION BY t.batch_no, t.pupil_number, t.d)
),
enrolled AS (
    -- absence rows whose pupil is enrolled at this school on that date
    SELECT DISTINCT t.batch_no, t.row_no
    FROM t JOIN e ON e.batch_no = t.batch_no AND e.pupil_number = t.pupil_number
    WHERE t.d BETWEEN e.d_from AND e.d_to
),
problems AS (
    SELECT batch_no, row_no, 'pupil_number' AS field,
           'expected 9 digits that pass the 11-test (BSN/PGN)' AS message
    FROM checked WHERE NOT number_ok
    UNION ALL
    SELECT batch_no, row_no, 'date',
           'expected a school day (YYYY-MM-DD) of holiday region ' || holiday_region || ' in school year ' || school_year
    FROM checked WHERE NOT school_day
    UNION ALL
    SELECT batch_no, row_no, 'hours',
           'expected hours > 0 and at most ' || round(day_minutes / 60.0, 2) || ' (one school day), with at most two decimals'
    FROM checked WHERE h IS NULL OR h <= 0 OR h * 60 > day_minutes
    UNION ALL
    SELECT batch_no, row_no, 'reason',
           'expected one of sick, authorised, unauthorised, late, suspended'
    FROM checked WHERE NOT reason_ok
    UNION ALL
    SELECT c.batch_no, c.row_no, 'pupil_number',
           'no enrolment of this pupil at this school on that date in the enrolment file'
    FROM checked c ANTI JOIN enrolled USING (batch_no, row_no)
    WHERE c.d IS NOT NULL AND c.number_ok
    UNION ALL
    -- exact duplicates (same pupil, date, hours and reason) would be summed: refused
    SELECT batch_no, row_no, 'row', 'an exact duplicate of row ' || first_row
    FROM (SELECT batch_no, row_no, min(row_no) OVER (PARTITION BY batch_no, pupil_number, d, h, reason)
                 AS first_row
          FROM checked WHERE d IS NOT NULL AND h IS NOT NULL)
    WHERE row_no > first_row
    UNION ALL
    SELECT batch_no, row_no, 'hours',
           'the absences of this pupil on this date add up to more than one school day ('
           || round(day_minutes / 60.0, 2) || ' hours)'
    FROM checked
    WHERE day_count > 1 AND d IS NOT NULL AND day_total * 60 > day_minutes
)
SELECT batch_no, row_no, field, message FROM problems
QUALIFY row_number() OVER (PARTITION BY batch_no ORDER BY row_no, field) <= $cap + 1
ORDER BY batch_no, row_no, field
