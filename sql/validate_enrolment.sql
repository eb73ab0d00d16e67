-- Every problem in uploaded enrolment tables, one row per (batch, row, field), at most
-- $cap + 1 per batch. Input views: upload_enrolment(batch_no, row_no, pupil_number,
-- birth_year, grade, residence_municipality, enrolled_from, enrolled_to) all text but the
-- numbers, and upload_batch(batch_no, school_year, first_day, last_day, sector, grade_max,
-- min_birth, max_birth). Never echo a value of the file: it may be an identifier
-- in the wrong column (docs/upload-format.md).
WITH t AS (
    SELECT u.*, b.school_year, b.first_day, b.last_day, b.sector, b.grade_max, b.min_birth, b.max_birth,
        -- strictly YYYY-MM-DD: strptime alone would take 2025-9-3
        CASE WHEN regexp_full_match(u.enrolled_from, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
             THEN try_strptime(u.enrolled_from, '%Y-%m-%d')::DATE END AS d_from,
        CASE WHEN trim(u.enrolled_to) = '' THEN b.last_day
             WHEN regexp_full_match(u.enrolled_to, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
             THEN try_strptime(u.enrolled_to, '%Y-%m-%d')::DATE END AS d_to,
        -- whole numbers only: DuckDB's cast would round '3.5' to 4
        CASE WHEN regexp_full_match(u.birth_year, '[0-9]{4}') THEN u.birth_year::INTEGER END AS by_int,
        CASE WHEN regexp_full_match(u.grade, '[0-9]{1,2}') THEN u.grade::INTEGER END AS grade_int,
        -- 000000000 passes the weighted sum but is no number (the 11-test excludes it)
        CASE WHEN regexp_full_match(u.pupil_number, '[0-9]{9}') AND u.pupil_number <> '000000000'
             THEN (9 * substr(u.pupil_number, 1, 1)::INT + 8 * substr(u.pupil_number, 2, 1)::INT
                 + 7 * substr(u.pupil_number, 3, 1)::INT + 6 * substr(u.pupil_number, 4, 1)::INT
                 + 5 * substr(u.pupil_number, 5, 1)::INT + 4 * substr(u.pupil_number, 6, 1)::INT
                 + 3 * substr(u.pupil_number, 7, 1)::INT + 2 * substr(u.pupil_number, 8, 1)::INT
                 - substr(u.pupil_number, 9, 1)::INT) % 11 = 0
             ELSE FALSE END AS number_ok,
        u.residence_municipality IN (SELECT code FROM area WHERE level = 'municipality') AS residence_ok
    FROM upload_enrolment u JOIN upload_batch b USING (batch_no)
),
problems AS (
    SELECT batch_no, row_no, 'pupil_number' AS field,
           'expected 9 digits that pass the 11-test (BSN/PGN)' AS message
    FROM t WHERE NOT number_ok
    UNION ALL
    SELECT batch_no, row_no, 'birth_year',
           'expected a year from ' || min_birth || ' to ' || max_birth
    FROM t WHERE by_int IS NULL OR by_int NOT BETWEEN min_birth AND max_birth
    UNION ALL
    SELECT batch_no, row_no, 'grade',
           'expected a whole number from 1 to ' || grade_max || ' for a ' || sector || ' school'
    FROM t WHERE grade_int IS NULL OR grade_int NOT BETWEEN 1 AND grade_max
    UNION ALL
    SELECT batch_no, row_no, 'residence_municipality',
           'expected a 2025 CBS municipality code such as GM0363'
    FROM t WHERE NOT residence_ok
    UNION ALL
    SELECT batch_no, row_no, 'enrolled_from',
           'expected a date YYYY-MM-DD inside school year ' || school_year || ' (' || first_day || ' to ' || last_day || ')'
    FROM t WHERE d_from IS NULL OR d_from NOT BETWEEN first_day AND last_day
    UNION ALL
    SELECT batch_no, row_no, 'enrolled_to',
           'expected empty or a date YYYY-MM-DD inside school year ' || school_year || ', not before enrolled_from'
    FROM t
    WHERE d_to IS NULL OR d_to NOT BETWEEN first_day AND last_day
       OR (d_from IS NOT NULL AND d_to < d_from)
    UNION ALL
    -- exact duplicates (the same text in every field) name the first row with that content
    SELECT batch_no, row_no, 'row', 'an exact duplicate of row ' || first_row
    FROM (SELECT batch_no, row_no, min(row_no) OVER (
              PARTITION BY batch_no, pupil_number, birth_year, grade, residence_municipality,
                           enrolled_from, enrolled_to) AS first_row
          FROM t)
    WHERE row_no > first_row
    UNION ALL
    -- overlapping periods of one pupil at one school
    SELECT a.batch_no, a.row_no, 'enrolled_from',
           'enrolment period overlaps the one in row ' || min(b.row_no)
    FROM t a JOIN t b
      ON a.batch_no = b.batch_no AND a.pupil_number = b.pupil_number AND a.row_no > b.row_no
     AND a.d_from <= b.d_to AND b.d_from <= a.d_to
    GROUP BY a.batch_no, a.row_no
)
SELECT batch_no, row_no, field, message FROM problems
QUALIFY row_number() OVER (PARTITION BY batch_no ORDER BY row_no, field) <= $cap + 1
ORDER BY batch_no, row_no, field
