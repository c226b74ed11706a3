"""Tests of the database: schema, writer, queries, registry."""
