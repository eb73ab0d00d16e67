-- Every problem in an uploaded enrolment table, one row per (row, field).
-- Input view: upload_enrolment(row_no, pupil_number, birth_year, grade,
--   residence_municipality, enrolled_from, enrolled_to), all VARCHAR.
-- Never echo pupil_number values: they are identifiers.
WITH t AS (
    SELECT *,
        try_strptime(enrolled_from, '%Y-%m-%d')::DATE AS d_from,
        CASE WHEN coalesce(trim(enrolled_to), '') = '' THEN $last_day::DATE
             ELSE try_strptime(enrolled_to, '%Y-%m-%d')::DATE END AS d_to,
        TRY_CAST(birth_year AS INTEGER) AS by_int,
        TRY_CAST(grade AS INTEGER) AS grade_int
    FROM upload_enrolment
),
problems AS (
    SELECT row_no, 'pupil_number' AS field,
           'expected 9 digits that pass the 11-test (BSN/PGN)' AS message
    FROM t
    WHERE CASE WHEN regexp_full_match(coalesce(pupil_number, ''), '[0-9]{9}')
               THEN (9 * substr(pupil_number, 1, 1)::INT + 8 * substr(pupil_number, 2, 1)::INT
                   + 7 * substr(pupil_number, 3, 1)::INT + 6 * substr(pupil_number, 4, 1)::INT
                   + 5 * substr(pupil_number, 5, 1)::INT + 4 * substr(pupil_number, 6, 1)::INT
                   + 3 * substr(pupil_number, 7, 1)::INT + 2 * substr(pupil_number, 8, 1)::INT
                   - substr(pupil_number, 9, 1)::INT) % 11 <> 0
               ELSE TRUE END
    UNION ALL
    SELECT row_no, 'birth_year',
           'expected a year from ' || $min_birth || ' to ' || $max_birth || ', got ''' || coalesce(birth_year, '') || ''''
    FROM t WHERE by_int IS NULL OR by_int NOT BETWEEN $min_birth AND $max_birth
    UNION ALL
    SELECT row_no, 'grade',
           'expected a whole number from 1 to ' || $grade_max || ' for a ' || $sector || ' school, got ''' || coalesce(grade, '') || ''''
    FROM t WHERE grade_int IS NULL OR grade_int NOT BETWEEN 1 AND $grade_max
    UNION ALL
    SELECT row_no, 'residence_municipality',
           'expected a 2025 CBS municipality code such as GM0363, got ''' || coalesce(residence_municipality, '') || ''''
    FROM t
    WHERE coalesce(residence_municipality, '') NOT IN
          (SELECT code FROM area WHERE level = 'municipality')
    UNION ALL
    SELECT row_no, 'enrolled_from',
           'expected a date YYYY-MM-DD inside school year ' || $school_year || ' (' || $first_day || ' to ' || $last_day || '), got ''' || coalesce(enrolled_from, '') || ''''
    FROM t WHERE d_from IS NULL OR d_from NOT BETWEEN $first_day::DATE AND $last_day::DATE
    UNION ALL
    SELECT row_no, 'enrolled_to',
           'expected empty or a date YYYY-MM-DD inside school year ' || $school_year || ', not before enrolled_from, got ''' || coalesce(enrolled_to, '') || ''''
    FROM t
    WHERE d_to IS NULL OR d_to NOT BETWEEN $first_day::DATE AND $last_day::DATE
       OR (d_from IS NOT NULL AND d_to < d_from)
    UNION ALL
    -- overlapping periods of one pupil at this school
    SELECT a.row_no, 'enrolled_from',
           'enrolment period overlaps the one in row ' || min(b.row_no)
    FROM t a JOIN t b
      ON a.pupil_number = b.pupil_number AND a.row_no > b.row_no
     AND a.d_from <= b.d_to AND b.d_from <= a.d_to
    GROUP BY a.row_no
)
SELECT row_no, field, message FROM problems ORDER BY row_no, field
