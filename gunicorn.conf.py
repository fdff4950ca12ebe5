"""gunicorn settings read from the working directory (the image runs gunicorn in /app). Flags on the command line
still win; this only adds what every deployment needs."""

# The access log must not carry invite links (bearer credentials): see config/gunicorn_logging.py.
logger_class = "config.gunicorn_logging.RedactingLogger"
