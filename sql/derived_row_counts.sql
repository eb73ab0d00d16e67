-- Rows of each derived per-pupil table for one school year (a check that derive wrote them;
-- row counts only, shown to the operator by `aanwezig ingest`, never per school).
SELECT (SELECT count(*) FROM pupil_year WHERE school_year = $school_year) AS pupil_years,
       (SELECT count(*) FROM pupil_week WHERE school_year = $school_year) AS pupil_weeks,
       (SELECT count(*) FROM pupil_month WHERE school_year = $school_year) AS pupil_months
