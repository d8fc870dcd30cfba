"""The spatial database: models, migrations, the embedded cluster, loading."""
