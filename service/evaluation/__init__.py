"""The evidence report: noise versus the "fewer than five" rule, measured and attacked.

Modules: `suppression` (primary, naive and complementary suppression over linear tables),
`differencing` (the attacker's LP audit and the differencing attack), `membership` (a
membership test against the DP releases), `figures` (charts), `report` (the comparison on a
synthetic Netherlands and the HTML report). Only evaluation figures leave these modules; on
synthetic data the truth is known, and no true table of a real dataset is ever written.
"""
