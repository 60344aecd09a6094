"""`python -m bench.bigdata`: see bench/bigdata/cli.py and bench/bigdata.md."""
from bench.bigdata.cli import main

if __name__ == "__main__":
    main()
