"""Footfall's command line (cli), its settings (settings) and process helpers (processes).

The command line is `python -m footfall ...`, or the `footfall` console script."""
