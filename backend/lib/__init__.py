"""Cross-cutting pieces only: database, stores, auth, problems, geo, i18n, pagination, logging."""
