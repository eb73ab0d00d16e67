"""Weekly signals: the continual release of attendance, weekly absence and new long-term absence
per area (`series`), the early warnings read from published weeks (`warnings`) and the weekly
chart spec (`chart`). May import `service.releases` and below."""
