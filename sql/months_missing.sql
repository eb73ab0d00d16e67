-- True when pupil_year holds the school year but pupil_month does not (a database derived
-- before months existed): a monthly query must then be refused, not answered with zeros.
SELECT EXISTS (SELECT 1 FROM pupil_year WHERE school_year = $school_year)
       AND NOT EXISTS (SELECT 1 FROM pupil_month WHERE school_year = $school_year)
