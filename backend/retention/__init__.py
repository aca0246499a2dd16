"""History that lasts: retention policies, garbage collection, the no-loss audit, backups."""
