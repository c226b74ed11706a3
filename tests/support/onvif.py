"""ONVIF test device (ipycam in a private network namespace): filled in below."""
