-- Fix the week of every pupil first counted in the new_long_term stream in week $week (from
-- the w_reach table that sql/weekly_leaf_totals.sql built on this connection): later
-- computations keep that week for them (docs/weekly.md "Frozen weeks").
INSERT OR IGNORE INTO pupil_long_term_counted
SELECT $school_year, pupil_tag, week_index FROM w_reach
WHERE week_index = $week;
