import unittest

from wc import counts


class CountsTest(unittest.TestCase):
    def test_counts(self) -> None:
        self.assertEqual(counts("a b\nc\n"), (2, 3, 6))


if __name__ == "__main__":
    unittest.main()
