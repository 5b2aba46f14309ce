"""Everything HTTP: the app factory, envelope, errors, auth and the routers."""
