import unittest

from slug import slugify


class SlugifyTest(unittest.TestCase):
    def test_words(self) -> None:
        self.assertEqual(slugify("Hello World"), "hello-world")

    def test_punctuation(self) -> None:
        self.assertEqual(slugify("Hello, World!"), "hello-world")

    def test_edges(self) -> None:
        self.assertEqual(slugify("  --Codex  loops-- "), "codex-loops")


if __name__ == "__main__":
    unittest.main()
