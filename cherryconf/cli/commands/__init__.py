"""One module per command. Each imports only click (and cherryconf's own small ground modules) at the top, so
`--help` and `--version` stay fast; what a command needs it imports when it runs."""
