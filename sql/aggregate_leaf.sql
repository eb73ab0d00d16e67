-- ONE scan: per school of the public register (zeros included, school_id order) the sum of
-- every clamped per-pupil contribution (the CTE body is sql/aggregate_contributions.sql; the
-- sums slot holds `coalesce(sum(t_x), 0)::BIGINT AS t_x` for every total x of the catalogue).
WITH c AS (
{contributions}
)
SELECT s.school_id, {sums}
FROM school s LEFT JOIN c ON c.school_id = s.school_id
GROUP BY s.school_id
ORDER BY s.school_id
