"""Council datasets: any table or layer a council publishes beside the index layers.

A `datasets:` entry in the region manifest names a file (CSV, GeoJSON, GeoPackage,
zipped shapefile or XLSX), its Table Schema and how its rows are placed; the build
reads it (`read`), checks it into the same validation report as the sources
(`checks`), and publishes it as files, data package resources and a descriptor the
API and catalogue read (`publish`). Nothing here is specific to one dataset, so a
council adds one with a few lines of YAML and a schema, and no code.

This package's `__init__` stays empty of imports: `placeintel.region` imports
`datasets.manifest` while it is itself being imported.
"""
