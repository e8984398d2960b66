"""Code shared by the nodewise Spark jobs; shipped to executors with --py-files."""

__version__ = "0.1.0"
