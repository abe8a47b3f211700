"""Students' stars as the service keeps them: the rating codes' use, storage, the ranking's API.

The maths (shrunken, generosity-corrected, decayed scores) is the pure package `ratings/`."""
