"""The public register: what is known about schools and areas without looking at any pupil.

Holds the geography and the areas of every level with their parents (`areas`: the area levels a
release reconciles over), the school calendar and its school days (`calendar`), the public
dimensions a query may group or filter by (`dimensions`), and where the register comes from
(`source`; here the synthetic school list of `synthetic` and `partnerships`, built from the
real 2025 geography in `service/data/geo`). Every group key of every release comes from here,
never from pupil data. May import `service.settings`, `service.db`, `privacy` and `sql`; nothing
else of the service."""
