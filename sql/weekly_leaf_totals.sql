-- Per school of the public register and school week in [$first, $last]: the sums of the
-- CLAMPED per-pupil weekly contributions that the weekly series noises (service/weekly/series.py,
-- bounds declared in service.weekly.series.TOTALS; sensitivity in privacy/continual.py).
--
-- Bounds applied here, per pupil and week (one row per pupil and week, whatever the input):
--   possible  in [0, $cap]          ($cap = one school week of the longest school day)
--   absent    in [0, possible]
--   pupils    1 if possible > 0, else 0
--   chronic   1 if absent >= 10% of possible, else 0
--   new_long_term  1 in the ONE week (at most one per year) in which the pupil's first run of
--                  four consecutive fully absent school weeks completes, else 0
-- Each pupil counts at ONE school in this query (its main school: the lowest school id if the
-- input ever disagrees), so it touches one cell of every table of a node.
WITH pw AS (
    SELECT pupil_key, week_index,
           greatest(sum(possible_minutes), 0) AS possible_raw,
           greatest(sum(absent_minutes), 0) AS absent_raw
    FROM pupil_week
    WHERE school_year = $school_year AND week_index BETWEEN 1 AND $last
    GROUP BY pupil_key, week_index
),
home AS (
    SELECT pupil_key, min(school_id) AS school_id
    FROM pupil_week WHERE school_year = $school_year AND week_index BETWEEN 1 AND $last
    GROUP BY pupil_key
),
clamped AS (
    SELECT pw.pupil_key, pw.week_index, h.school_id,
           least(pw.possible_raw, $cap) AS possible,
           least(pw.absent_raw, least(pw.possible_raw, $cap)) AS absent
    FROM pw JOIN home h USING (pupil_key) JOIN school s ON s.school_id = h.school_id
),
flagged AS (
    SELECT *,
           CASE WHEN possible > 0 AND absent * 10 >= possible THEN 1 ELSE 0 END AS chronic,
           possible > 0 AND absent >= possible AS full_week
    FROM clamped
),
islands AS (   -- consecutive fully absent school weeks share (week_index - row_number)
    SELECT pupil_key, week_index,
           week_index - row_number() OVER (PARTITION BY pupil_key ORDER BY week_index) AS island
    FROM flagged WHERE full_week
),
runs AS (
    SELECT pupil_key, week_index,
           row_number() OVER (PARTITION BY pupil_key, island ORDER BY week_index) AS run
    FROM islands
),
first_reach AS (
    SELECT pupil_key, min(week_index) AS week_index FROM runs WHERE run = 4 GROUP BY pupil_key
)
SELECT f.school_id, f.week_index,
       sum(f.possible)::BIGINT AS possible,
       sum(f.absent)::BIGINT AS absent,
       count(*) FILTER (WHERE f.possible > 0)::BIGINT AS pupils,
       sum(f.chronic)::BIGINT AS chronic,
       count(r.pupil_key)::BIGINT AS new_long_term
FROM flagged f
LEFT JOIN first_reach r ON r.pupil_key = f.pupil_key AND r.week_index = f.week_index
WHERE f.week_index BETWEEN $first AND $last
GROUP BY f.school_id, f.week_index
ORDER BY f.school_id, f.week_index
