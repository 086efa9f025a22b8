"""diabot: a Matrix bot that connects entrepreneurs across the Dutch-German border."""

__version__ = "0.1.0"
