"""Local Sync folder connector: keeps a local folder of markdown in sync over the REST API."""

__version__ = "0.1.0"
