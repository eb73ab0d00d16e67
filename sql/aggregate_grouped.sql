-- Sums of every clamped per-pupil contribution per combination of group columns. The keys and
-- where slots are filled ONLY from the column whitelist in service/register/dimensions.py (k0, k1, … and
-- list_contains($f0, column) …); filter values are bound as parameters. Groups absent here
-- are zero; the key set itself comes from the register (service/releases/aggregate.py). The
-- sums slot holds `coalesce(sum(t_x), 0)::BIGINT AS t_x` for every total x of the period.
WITH c AS (
{contributions}
)
SELECT {keys}{sums}
FROM c
WHERE {where}
GROUP BY ALL
