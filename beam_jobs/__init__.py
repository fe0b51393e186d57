"""Job entry points: parse the command line, load the recipe, assemble transforms, run, publish."""
