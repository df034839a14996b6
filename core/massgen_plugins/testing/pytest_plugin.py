"""pytest plugin (``pytest11`` entry point ``massgen_plugins``): fixtures for testing plugins
against the provider emulator."""
