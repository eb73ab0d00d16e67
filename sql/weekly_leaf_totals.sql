-- Per school of the public register and school week in [$first, $last]: the sums of the
-- CLAMPED per-pupil weekly contributions that the weekly series noises (service/weekly/series.py,
-- bounds declared in service.weekly.series.TOTALS; sensitivity in privacy/continual.py).
--
-- Bounds applied here, per pupil and week (one row per pupil and week, whatever the input):
--   possible  in [0, $cap]          ($cap = one school week of the longest school day)
--   absent    in [0, possible]
--   pupils    1 if possible > 0, else 0
--   chronic   1 if absent >= 10% of possible, else 0
--   new_long_term  1 in the ONE week (at most one per year) in which the pupil is counted:
--                  the week already fixed for them in pupil_long_term_counted (never moved by
--                  a later correction), else the week their first run of four consecutive
--                  fully absent school weeks completes, but not before $open (the first week
--                  not yet released: corrections flow into later weeks only); else 0
-- The first statement keeps that week per pupil in the temp table w_reach (this connection),
-- from which a week's release fixes its newly counted pupils (sql/weekly_count_long_term.sql).
-- Each pupil counts at ONE school in this query (its main school: the lowest school id if the
-- input ever disagrees), so it touches one cell of every table of a node.
-- A pupil is its pupil_tag (16 characters of the HMAC key; sql/derive_tables.sql): every
-- bound above holds per tag, so it holds for each pupil also when two pupils share a tag
-- (the chance that any two of 2.5 million pupils do is about 1 in 6 million), who then
-- count as one.
CREATE OR REPLACE TEMP TABLE w_reach AS
WITH full_weeks AS (
    SELECT pupil_tag, week_index
    FROM pupil_week
    WHERE school_year = $school_year AND week_index BETWEEN 1 AND $last
    GROUP BY pupil_tag, week_index
    HAVING least(greatest(sum(possible_minutes), 0), $cap) > 0
       AND greatest(sum(absent_minutes), 0) >= least(greatest(sum(possible_minutes), 0), $cap)
),
islands AS (   -- consecutive fully absent school weeks share (week_index - row_number)
    SELECT pupil_tag, week_index,
           week_index - row_number() OVER (PARTITION BY pupil_tag ORDER BY week_index) AS island
    FROM full_weeks
),
runs AS (
    SELECT pupil_tag, week_index,
           row_number() OVER (PARTITION BY pupil_tag, island ORDER BY week_index) AS run
    FROM islands
),
first_reach AS (
    SELECT pupil_tag, min(week_index) AS week_index FROM runs WHERE run = 4 GROUP BY pupil_tag
),
counted AS (
    SELECT pupil_tag, week_index FROM pupil_long_term_counted WHERE school_year = $school_year
)
SELECT pupil_tag, week_index FROM counted
UNION ALL
SELECT r.pupil_tag, greatest(r.week_index, $open) AS week_index
FROM first_reach r ANTI JOIN counted c ON c.pupil_tag = r.pupil_tag;

WITH pw AS (
    SELECT pupil_tag, week_index,
           greatest(sum(possible_minutes), 0)::BIGINT AS possible_raw,
           greatest(sum(absent_minutes), 0)::BIGINT AS absent_raw
    FROM pupil_week
    WHERE school_year = $school_year AND week_index BETWEEN 1 AND $last
    GROUP BY pupil_tag, week_index
),
home AS (
    SELECT pupil_tag, min(school_id) AS school_id
    FROM pupil_week WHERE school_year = $school_year AND week_index BETWEEN 1 AND $last
    GROUP BY pupil_tag
),
clamped AS (
    SELECT pw.pupil_tag, pw.week_index, h.school_id,
           least(pw.possible_raw, $cap) AS possible,
           least(pw.absent_raw, least(pw.possible_raw, $cap)) AS absent
    FROM pw JOIN home h USING (pupil_tag) JOIN school s ON s.school_id = h.school_id
),
flagged AS (
    SELECT *,
           CASE WHEN possible > 0 AND absent * 10 >= possible THEN 1 ELSE 0 END AS chronic
    FROM clamped
),
reached AS (   -- a semi join, not a LEFT JOIN: DuckDB 2.0.1 narrowed the sums below to 8 bits
               -- when the joined table was empty (seen on the test's data)
    SELECT f.*, CASE WHEN EXISTS (SELECT 1 FROM w_reach r WHERE r.pupil_tag = f.pupil_tag
                                  AND r.week_index = f.week_index) THEN 1 ELSE 0 END AS new_lt
    FROM flagged f
    WHERE f.week_index BETWEEN $first AND $last
)
SELECT f.school_id, f.week_index,
       sum(f.possible)::BIGINT AS possible,
       sum(f.absent)::BIGINT AS absent,
       count(*) FILTER (WHERE f.possible > 0)::BIGINT AS pupils,
       sum(f.chronic)::BIGINT AS chronic,
       sum(f.new_lt)::BIGINT AS new_long_term
FROM reached f
GROUP BY f.school_id, f.week_index
ORDER BY f.school_id, f.week_index
