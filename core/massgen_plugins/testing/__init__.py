"""Testing support: the provider emulator and the pytest plugin (brief §6)."""
