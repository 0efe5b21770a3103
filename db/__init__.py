"""Storage: the only place with SQL. One module per read model (home, customers, profile, history,
sidebar), every figure built once (figures), edits, freshness, writes, schema and connections."""
