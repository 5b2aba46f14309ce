"""Operating the service: Prometheus metrics (`metrics`, `store`) and structured logs (`logs`)."""
