"""The api app's views, one module per area; urls.py imports the modules."""
