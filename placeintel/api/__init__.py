"""OGC API - Features through pygeoapi, over a release's files."""
