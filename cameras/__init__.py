"""Cameras: what a camera is (``models``), its zones (``geometry``), onboarding over ONVIF (``discovery``,
``onvif``, ``onboarding``) and its encrypted credentials (``crypto``). Imports nothing from other layers."""
