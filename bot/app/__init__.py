"""The outer layer: command line, console demo. May import anything below it."""
