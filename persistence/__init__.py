"""Database adapters: tables, engine, repositories, unit of work, migrations, event bus."""
