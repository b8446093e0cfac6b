"""Statements PostgreSQL prepares once per connection.

Django's own cursors bind parameters on the client, so PostgreSQL parses and plans every
statement they send afresh. For the few constant statements on the busiest paths (the hot
path's generations check, the search page's rendering) planning costs as much as running, so
they go through psycopg's server-side binding with prepare=True instead. They still show in
Django's query log (DEBUG, django_assert_num_queries) like any other query.
"""

import time

import psycopg
from django.db import connection


def fetch_prepared(sql, params):
    """Every row of `sql` (constant text, %s placeholders) run with `params` as a prepared
    statement on PostgreSQL. Errors are psycopg's own (psycopg.Error)."""
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        rows = cursor.fetchall()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows
