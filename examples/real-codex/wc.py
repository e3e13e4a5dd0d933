"""A tiny wc: counts lines, words and characters of a file."""

import argparse
import sys


def counts(text: str) -> tuple[int, int, int]:
    """Lines, words and characters of text."""
    return text.count("\n"), len(text.split()), len(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wc.py")
    parser.add_argument("file")
    args = parser.parse_args(argv)
    with open(args.file, encoding="utf-8") as handle:
        lines, words, chars = counts(handle.read())
    print(f"{lines} {words} {chars} {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
