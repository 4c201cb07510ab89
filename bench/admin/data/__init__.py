"""A realistic installation, built part by part in the order each needs the last."""
