"""URL slugs."""


def slugify(text: str) -> str:
    """Turn text into a URL slug."""
    raise NotImplementedError
