"""The public register as the rest of the service sees it: `load_register(con)` fills the
register tables (areas, schools, calendar) of a database.

Here the schools and samenwerkingsverbanden are synthetic, built deterministically by
`service.register.synthetic` from real 2025 geography; in production this module would read
DUO's open school lists instead, and nothing else would change.
"""

from service.register.synthetic import (DAY_MINUTES, HOLIDAY_REGION, Register, build_register,
                                    load_register, municipalities)

__all__ = ["DAY_MINUTES", "HOLIDAY_REGION", "Register", "build_register", "load_register",
           "municipalities"]
