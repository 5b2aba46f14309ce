"""Thin routers: validate, call one service function, shape the response."""
