-- Store one validated, pseudonymised enrolment table (view clean_enrolment: no pupil numbers).
INSERT INTO enrolment
SELECT $batch_id, $school_id, $school_year, pupil_key,
       birth_year::SMALLINT, grade::SMALLINT, residence_municipality,
       strptime(enrolled_from, '%Y-%m-%d')::DATE,
       CASE WHEN trim(enrolled_to) = '' THEN $last_day::DATE
            ELSE strptime(enrolled_to, '%Y-%m-%d')::DATE END
FROM clean_enrolment
