"""`python -m uprising.cli`: the command line where no `uprising` script is installed."""

from uprising.cli import app

if __name__ == "__main__":
    app()
