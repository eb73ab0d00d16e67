-- Whether $school_year's derived tables can be updated pupil by pupil: they were derived in
-- full before, by the same derive code and bounds ($derive_code), and every pupil_month row
-- carries its pupil_tag. Otherwise the next derive rebuilds the year in full.
SELECT EXISTS (SELECT 1 FROM derived_version
               WHERE school_year = $school_year AND derive_code = $derive_code)
   AND NOT EXISTS (SELECT 1 FROM pupil_month
                   WHERE school_year = $school_year AND pupil_tag IS NULL) AS ready;
