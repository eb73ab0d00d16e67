-- Store one validated, pseudonymised absence table (view clean_absence: no pupil numbers).
-- Hours become integer minutes (fixed point).
INSERT INTO absence
SELECT $batch_id, $school_id, $school_year, pupil_key,
       strptime("date", '%Y-%m-%d')::DATE,
       round(CAST(hours AS DECIMAL(6, 2)) * 60)::SMALLINT,
       reason
FROM clean_absence
