"""History that lasts: retention, gc, verify, backups."""
