"""The explorer: a local web app over run logs and memory (``massgen-plugins explore``).

- :mod:`.index` finds runs (ours and MassGen's) and keeps their summaries current;
- :mod:`.detail`, :mod:`.diff`, :mod:`.memory_view` build what each page shows;
- :mod:`.models` is the JSON API's contract; :mod:`.app` serves pages and API on the shared
  ASGI layer (:mod:`massgen_plugins.web`); ``static/`` holds the pages (plain HTML/CSS/JS, charts
  drawn as inline SVG, no build step).

.. code-block:: python

    from massgen_plugins.explorer.app import create_app
    from massgen_plugins.web import BackgroundServer

    with BackgroundServer(create_app(["runs/"], ["sqlite:///memory.db"])) as server:
        print(server.url)
"""
