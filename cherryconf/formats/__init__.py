"""Every file format that is not the store: the profile, the schemas, presets, export, import links, importers."""
