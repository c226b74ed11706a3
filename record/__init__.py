"""Recording: the cameras' main streams copied to disk in segments by ffmpeg, their retention, and exports."""
