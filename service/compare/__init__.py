"""Comparing areas for policy staff: estimates, intervals and verdicts per area and per difference
read from published releases (`comparison`), and the Vega-Lite chart specs of the page
(`charts`). Post-processing of published releases only. May import `service.releases` and below."""
