"""PostgreSQL storage: migrations, small repositories, and the embedded default server.

Repository functions take an open psycopg 3 connection and never commit: the caller owns the
transaction, so a stream row, its chunk and its outbox events can be written atomically.
"""
