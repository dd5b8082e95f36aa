"""`python -m manualml` runs the same command as the `manualml` console script."""

from manualml.cli import main

if __name__ == "__main__":
    main()
