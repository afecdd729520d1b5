"""Storage: the SQLAlchemy schema, migrations, encryption at rest and the audit log.

SQLAlchemy, Alembic, cryptography and argon2 are used only in this layer.
"""
