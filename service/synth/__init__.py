"""Synthetic school uploads for tests, benchmarks and the demo: pupils, enrolments and absence
records drawn from a model of Dutch attendance (`uploads`, `absence`), written as the CSV or
Parquet files a school would send. Test data only: nothing on the release path imports it. Its
random numbers come from numpy's generator, which is allowed here and nowhere on the release
path. May import `service.register` and below."""
