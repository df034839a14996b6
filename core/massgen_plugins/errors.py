"""The exceptions massgen-plugins raises on purpose.

Each carries a message that says what was wrong and what to do. The CLI turns a
:class:`MassgenError` into one line on stderr and its ``exit_code`` (2 for bad input, 1 for a
failure), with no traceback unless ``--debug`` is given.
"""

from __future__ import annotations


class MassgenError(Exception):
    """Base class: a failure the user can understand and act on."""

    exit_code = 1


class InputError(MassgenError, ValueError):
    """Bad input from the user: a malformed argument, file or configuration (exit code 2)."""

    exit_code = 2


class ModelStringError(InputError):
    """A model string that is not ``provider/model``."""


class UnknownProviderError(InputError):
    """A model string naming a provider that no installed plugin implements."""


class UnknownModelError(InputError):
    """A model the registry does not know."""


class MissingCredentialsError(InputError):
    """A provider's API key is not set."""


class PluginError(MassgenError):
    """A plugin failed to load or failed inside a hook (raised in strict mode only)."""


class ProviderConflictError(PluginError):
    """Two installed plugins declare the same provider; the host calls neither until one goes."""


class NoImplementationError(MassgenError):
    """No installed plugin answered a hook that needs an answer."""
