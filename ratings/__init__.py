"""The rating maths, pure: shrunken, corrected for each school's generosity, decayed with age (score.py)."""
