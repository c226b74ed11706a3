"""Tests of the Operations API."""
