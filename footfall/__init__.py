"""Footfall's command line and nothing else: the parser and its commands (cli and the command
modules), their output (output) and the one error they print (errors). The services the commands
call live in services/, where the collector and the dashboard use them too.

The command line is `python -m footfall ...`, or the `footfall` console script."""
