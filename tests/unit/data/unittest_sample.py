"""A small unittest module whose -v output is recorded for ftscope's unittest parser."""
import sys
import unittest


class TestOutcomes(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(1 + 1, 2)

    def test_docstring(self):
        """A docstring's first line is printed under -v."""
        self.assertTrue(True)

    def test_fail(self):
        self.assertEqual(1, 2)

    def test_error(self):
        raise RuntimeError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_xfail(self):
        self.assertEqual(1, 2)

    @unittest.expectedFailure
    def test_xpass(self):
        pass

    def test_stderr_noise(self):
        sys.stderr.write("noise written by the test\n")
        sys.stderr.flush()

    def test_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)


class TestSecond(unittest.TestCase):
    def test_passes(self):
        pass


if __name__ == "__main__":
    unittest.main()
