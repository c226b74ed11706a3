"""Tests of what a camera is."""
