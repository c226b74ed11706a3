"""Tests of engine, tracking, rules, pipelines, scenarios."""
