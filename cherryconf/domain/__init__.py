"""Pure rules, no I/O: the change plan, the app's routing and URLs, the provider spec, the model catalog."""
