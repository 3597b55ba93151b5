"""The lab: the course's searchers on lookup tables whose every answer is known."""
