"""Ground-truthed scenarios: scripted timelines, composited video from real footage, and their truth."""
