"""The console's own pages, on top of every app: the admin site and its dashboard,
a contact's timeline, the URLs (console.views)."""
