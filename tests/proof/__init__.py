"""Tests of end-to-end proofs: whole system, faults, secrets."""
