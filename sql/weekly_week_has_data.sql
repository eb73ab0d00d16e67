-- Whether the derived weekly table holds any pupil-week of this school week (the country as a
-- whole: a week can be released only after schools have uploaded it).
SELECT EXISTS (SELECT 1 FROM pupil_week WHERE school_year = $school_year AND week_index = $week)
