"""Value classes of the data types owned here (see each module's docstring)."""
