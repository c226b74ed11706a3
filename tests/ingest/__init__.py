"""Tests of readers, decode, health, tamper."""
