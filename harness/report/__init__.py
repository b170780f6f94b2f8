"""Tables and reports over run records (DESIGN §1)."""
