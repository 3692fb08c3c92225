"""Files the app ships: the bundled model's weights land here at install time (see `app/_build.py`)."""
