"""The command-line subcommands of `python -m bot` besides running the bot."""
