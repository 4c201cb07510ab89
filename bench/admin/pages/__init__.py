"""The pages to time and the objects they show."""
