"""The controller side of nodewise: data, split, report (see `nodewise --help`)."""

__version__ = "0.1.0"
